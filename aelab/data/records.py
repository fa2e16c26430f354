"""Records: what a data set looks like (`DatasetInfo`) and random access to one split
(`RecordSource`): arrays in memory (`ArraySource`) or a prepared TFDS data set read by
index (`TfdsSource`, `read_split`).

Records are dicts of NumPy arrays, e.g. `{'image': uint8 [28, 28, 1], 'label': int64 []}`.
Records of the TFDS-backed sets come in the order TFDS wrote them: for the MNIST-style
sets and ECG5000, shuffled on write (the same order on every preparation), not the order
of the raw files; for `npz`, the file's own order.
"""

from __future__ import annotations

import dataclasses
import operator
import os
from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np
import tensorflow_datasets as tfds

from aelab.data.errors import DataError

INPUT_KEYS = ("image", "series", "inputs")


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What a data set looks like, for building a model and scaling its inputs.

    Attributes:
      name: the registered name, e.g. "mnist" or "tfds:mnist".
      input_key: the record key of the model input: "image" or "series" (or "inputs").
      input_shape: per-example input shape: (28, 28, 1), (8, 8, 1), (140, 1).
      value_max: the largest raw input value, to scale inputs to [0, 1]: 255 for uint8
        images, 16 for digits, 1 for binarized MNIST; None for real-valued inputs.
      num_classes: number of label classes; None when records have no `label`.
      splits: split name -> number of examples, for the data set's own splits.
    """

    name: str
    input_key: str
    input_shape: tuple[int, ...]
    value_max: float | None
    num_classes: int | None
    splits: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field (`from_dict` reads it back)."""
        fields = dataclasses.asdict(self)
        fields["input_shape"] = list(self.input_shape)
        return fields

    @classmethod
    def from_dict(cls, fields: Mapping[str, Any], *, source: str = "data_info") -> DatasetInfo:
        """The `DatasetInfo` that `to_dict` wrote; `source` names it in errors.

        Raises:
          DataError: a field is missing or unknown.
        """
        names = [field.name for field in dataclasses.fields(cls)]
        missing = [name for name in names if name not in fields]
        unknown = sorted(set(fields) - set(names))
        if missing or unknown:
            raise DataError(
                f"{source} is not a data set description: missing fields {missing}, unknown "
                f"fields {unknown} (expected exactly {names}); export the run again to "
                "rewrite it."
            )
        value_max, num_classes = fields["value_max"], fields["num_classes"]
        return cls(
            name=str(fields["name"]),
            input_key=str(fields["input_key"]),
            input_shape=tuple(int(d) for d in fields["input_shape"]),
            value_max=None if value_max is None else float(value_max),
            num_classes=None if num_classes is None else int(num_classes),
            splits={str(k): int(v) for k, v in fields["splits"].items()},
        )


class RecordSource(Protocol):
    """Random access to the records of one split; usable as a grain data source."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        """One record, e.g. `{'image': [28, 28, 1], 'label': []}`."""
        ...

    def get_batch(self, indices: np.ndarray) -> dict[str, np.ndarray]:
        """The records at `indices` `[B]`, stacked: `{'image': [B, 28, 28, 1], 'label': [B]}`."""
        ...

    def __repr__(self) -> str:
        """Name, split and path only: grain compares it across processes on restore."""
        ...


def _check_index(index: int, length: int) -> int:
    """Returns `index` as a non-negative int, with Python's rules for negative ones."""
    index = operator.index(index)
    if not -length <= index < length:
        raise IndexError(f"Record index {index} is out of range for {length} records.")
    return index % length


def _check_indices(indices: np.ndarray, length: int) -> np.ndarray:
    """Returns `indices` as a 1-D int64 array of non-negative indices."""
    indices = np.asarray(indices)
    if indices.ndim != 1 or (indices.size and indices.dtype.kind not in "iu"):
        raise TypeError(
            f"indices must be a 1-D integer array; got {indices.dtype} {indices.shape}."
        )
    indices = indices.astype(np.int64)
    if indices.size and (indices.min() < -length or indices.max() >= length):
        raise IndexError(f"Record indices out of range for {length} records.")
    return indices % max(length, 1)


class ArraySource:
    """Records held in memory as arrays that share a leading axis.

    Records and batches are read-only views or copies: the arrays are marked read-only
    so that a transform writing in place fails loudly instead of changing the source.
    """

    def __init__(
        self,
        arrays: Mapping[str, np.ndarray],
        *,
        name: str,
        split: str,
        path: str | None = None,
    ):
        """Wraps `arrays` (`{key: [N, ...]}`); `name`, `split`, `path` only go into repr."""
        lengths = {len(array) for array in arrays.values()}
        if len(lengths) != 1:
            raise ValueError(f"Arrays of one split must share their length; got {lengths}.")
        # Read-only views: the caller's arrays stay writable, records from here do not.
        self._arrays = {key: np.asarray(array).view() for key, array in arrays.items()}
        for array in self._arrays.values():
            array.setflags(write=False)
        self._length = lengths.pop()
        self._name, self._split, self._path = name, split, path

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        index = _check_index(index, self._length)
        # `[index, ...]` keeps scalars as 0-d arrays, like the batched path's dtypes.
        return {key: array[index, ...] for key, array in self._arrays.items()}

    def get_batch(self, indices: np.ndarray) -> dict[str, np.ndarray]:
        indices = _check_indices(indices, self._length)
        return {key: array[indices] for key, array in self._arrays.items()}

    def __repr__(self) -> str:
        return f"ArraySource(name={self._name!r}, split={self._split!r}, path={self._path!r})"


class TfdsSource:
    """Records read lazily, one by one, from a prepared TFDS data set's array_record files."""

    def __init__(
        self,
        data_source: Any,
        *,
        specs: Mapping[str, tuple[tuple[int, ...], np.dtype]],
        name: str,
        split: str,
        path: str,
    ):
        """Wraps a `builder.as_data_source(split)`; `specs` maps keys to (shape, dtype)."""
        self._source = data_source
        self._specs = dict(specs)
        self._name, self._split, self._path = name, split, path

    def __len__(self) -> int:
        return len(self._source)

    def _convert(self, record: Mapping[str, Any]) -> dict[str, np.ndarray]:
        # TFDS decodes scalar features to Python ints: make every value an array.
        return {
            key: np.asarray(record[key], dtype=dtype) for key, (_, dtype) in self._specs.items()
        }

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        return self._convert(self._source[_check_index(index, len(self))])

    def get_batch(self, indices: np.ndarray) -> dict[str, np.ndarray]:
        indices = _check_indices(indices, len(self))
        if not indices.size:
            return {
                key: np.empty((0, *(dim or 0 for dim in shape)), dtype)
                for key, (shape, dtype) in self._specs.items()
            }
        records = [self._convert(record) for record in self._source.__getitems__(indices.tolist())]
        return {key: np.stack([record[key] for record in records]) for key in self._specs}

    def __repr__(self) -> str:
        return f"TfdsSource(name={self._name!r}, split={self._split!r}, path={self._path!r})"


def feature_specs(builder: tfds.core.DatasetBuilder) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Per-example `(shape, dtype)` of each top-level feature of a TFDS builder."""
    return {
        key: (tuple(feature.shape), np.dtype(feature.np_dtype))
        for key, feature in builder.info.features.items()
    }


def read_split(
    builder: tfds.core.DatasetBuilder, *, name: str, split: str, in_memory: bool
) -> RecordSource:
    """A record source for `split` (TFDS slicing syntax allowed) of a prepared builder."""
    try:
        data_source = builder.as_data_source(split=split)
    except (ValueError, KeyError, AssertionError) as e:
        raise DataError(
            f"Cannot read split {split!r} of data set {name!r} ({builder.data_dir}): {e}\n"
            f"Its splits: {list(builder.info.splits)}; slices such as 'train[:90%]' or "
            "'train[50000:]' and sums such as 'train+test' work too."
        ) from None
    except NotImplementedError:
        raise DataError(
            f"Data set {name!r} in {builder.data_dir} is not stored as array_record, which "
            "random access needs. Prepare it again with file_format='array_record' (for "
            "the tfds command line: tfds build NAME --file_format=array_record)."
        ) from None
    specs, path = feature_specs(builder), os.fspath(builder.data_dir)
    reader = TfdsSource(data_source, specs=specs, name=name, split=split, path=path)
    if not in_memory:
        return reader
    chunk = 8192  # Bounds the number of decoded Python dicts alive at once.
    batches = [
        reader.get_batch(np.arange(start, min(start + chunk, len(reader))))
        for start in range(0, len(reader), chunk)
    ] or [reader.get_batch(np.arange(0))]
    arrays = {key: np.concatenate([batch[key] for batch in batches]) for key in specs}
    return ArraySource(arrays, name=name, split=split, path=path)


def info_from_builder(builder: tfds.core.DatasetBuilder, name: str) -> DatasetInfo:
    """A DatasetInfo for a prepared TFDS data set, from its features and metadata.

    `value_max` and `num_classes` come from `metadata` when aelab's builders wrote them;
    otherwise `value_max` is 255 for uint8 inputs (None for others) and `num_classes`
    comes from a `ClassLabel` feature named `label`.
    """
    features = builder.info.features
    input_key = next((key for key in INPUT_KEYS if key in features.keys()), None)
    if input_key is None:
        raise DataError(
            f"Data set {name!r} ({builder.data_dir}) has features {list(features.keys())}; "
            f"aelab needs one named {' or '.join(INPUT_KEYS)} as the model input."
        )
    shape, dtype = feature_specs(builder)[input_key]
    if None in shape:
        raise DataError(
            f"Data set {name!r}: input '{input_key}' has a variable shape {shape}; aelab "
            "needs a fixed per-example shape."
        )
    metadata = dict(builder.info.metadata or {})
    value_max = metadata.get("value_max", 255 if dtype == np.uint8 else None)
    label = features["label"] if "label" in features.keys() else None
    num_classes = metadata.get("num_classes")
    if isinstance(label, tfds.features.ClassLabel):
        num_classes = label.num_classes
    return DatasetInfo(
        name=name,
        input_key=input_key,
        input_shape=shape,
        value_max=None if value_max is None else float(value_max),
        num_classes=None if num_classes is None else int(num_classes),
        splits={split: info.num_examples for split, info in builder.info.splits.items()},
    )
