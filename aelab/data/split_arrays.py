"""A data set held in memory as one array per split: its `DatasetInfo`, and a record
source for any split spec in TFDS's syntax (`train`, `train[:90%]`, `train+test`).

The in-memory sets (`arrays`, `table`) build one `SplitArrays` and serve every
`load_split` from it; a plain split or a contiguous slice of one is a view, not a copy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from aelab.data.records import ArraySource, DatasetInfo
from aelab.data.splits import select_split


def _take(array: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """`array[indices]`, as a view when `indices` is a contiguous ascending run."""
    if indices.size and np.array_equal(indices, np.arange(indices[0], indices[0] + indices.size)):
        return array[indices[0] : indices[0] + indices.size]
    return array[indices]


@dataclasses.dataclass(frozen=True)
class SplitArrays:
    """Records of a data set in memory, split by split.

    Attributes:
      name: the registered name, for `DatasetInfo` and reprs ("arrays", "table").
      input_key: the record key of the inputs ("image", "series", "inputs").
      inputs: split -> inputs `[N_split, ...]` (one per-example shape and dtype).
      labels: split -> int64 labels `[N_split]`, or None without labels.
      value_max: see `DatasetInfo.value_max`.
      num_classes: see `DatasetInfo.num_classes`.
      path: where the data came from, for reprs (a file, or "in memory <key>").
    """

    name: str
    input_key: str
    inputs: Mapping[str, np.ndarray]
    labels: Mapping[str, np.ndarray] | None
    value_max: float | None
    num_classes: int | None
    path: str | None = None

    def info(self) -> DatasetInfo:
        first = next(iter(self.inputs.values()))
        return DatasetInfo(
            name=self.name,
            input_key=self.input_key,
            input_shape=tuple(first.shape[1:]),
            value_max=self.value_max,
            num_classes=self.num_classes,
            splits={split: len(array) for split, array in self.inputs.items()},
        )

    def source(self, split: str) -> ArraySource:
        """The records of `split` (a name, a slice such as `train[:90%]`, or a sum):
        `{input_key: [...], "label": []}` each.

        Raises:
          DataError: an unknown split or a bad slice.
        """
        names = list(self.inputs)
        offsets = np.cumsum([0, *(len(self.inputs[name]) for name in names)])
        ranges = {name: np.arange(offsets[i], offsets[i + 1]) for i, name in enumerate(names)}
        indices = select_split(split, ranges)
        # Runs of consecutive records of one split: each becomes a view or one gather.
        owners = np.searchsorted(offsets[1:], indices, side="right")
        cuts = np.flatnonzero(np.diff(owners)) + 1
        runs = [
            (names[owner[0]], run - offsets[owner[0]])
            for run, owner in zip(np.split(indices, cuts), np.split(owners, cuts), strict=True)
            if run.size
        ]
        columns = {self.input_key: self.inputs}
        if self.labels is not None:
            columns["label"] = self.labels
        arrays = {}
        for key, per_split in columns.items():
            parts = [_take(per_split[name], local) for name, local in runs]
            if not parts:
                parts = [per_split[names[0]][:0]]
            arrays[key] = parts[0] if len(parts) == 1 else np.concatenate(parts)
        return ArraySource(arrays, name=self.name, split=split, path=self.path)
