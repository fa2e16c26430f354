"""NumPy arrays held in this process as a data set (`config.data.name = "arrays"`).

    key = register_arrays({"train": x_train, "test": x_test})
    config.data.name = "arrays"
    config.data.arrays = key   # config.json records which arrays the run used

The arrays follow the `.npz` layout (`aelab.data.split_layout`): `train` and `test`,
optionally `validation`, optionally integer `<split>_labels`. The key is a fingerprint
of their contents (shapes, dtypes and bytes), so the same arrays registered again, in
this process or a later one, get the same key and a resumed run finds its data. The
arrays themselves live only in the process that registered them: a program that reads
the run's config.json in a fresh process (evaluate.py, a sweep worker) must register
them again first, or use a `.npz` file (`name="npz"`), which any process can read.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping

import ml_collections
import numpy as np

from aelab.core.options import Options, option, options_class
from aelab.data.errors import DataError
from aelab.data.records import INPUT_KEYS, DatasetInfo, RecordSource
from aelab.data.sources import DATASETS
from aelab.data.split_arrays import SplitArrays
from aelab.data.split_layout import check_split_layout, num_classes_of, value_max_of

_KEY_LENGTH = 16  # hex digits of the SHA-256 fingerprint


@options_class
class ArraysOptions(Options):
    """`config.data` options of the "arrays" data set."""

    arrays: str = option(
        doc="the key aelab.data.arrays.register_arrays returned for arrays registered in "
        "this process"
    )
    input_key: str | None = option(
        None,
        "what the arrays hold: 'image' [n, h, w(, c)], 'series' [n, t(, c)] or 'inputs' "
        "(None: 'inputs' for [n, d], else 'image')",
        choices=INPUT_KEYS,
    )


@dataclasses.dataclass(frozen=True)
class _Registered:
    """Arrays registered in this process, copied and read-only."""

    inputs: dict[str, np.ndarray]  # split -> [N, ...]
    labels: dict[str, np.ndarray] | None  # split -> int64 [N]
    value_max: float | None
    num_classes: int | None


_REGISTERED: dict[str, _Registered] = {}


def _fingerprint(arrays: Mapping[str, np.ndarray]) -> str:
    """SHA-256 of every array's key, dtype, shape and bytes (keys in sorted order)."""
    digest = hashlib.sha256()
    for key in sorted(arrays):
        array = np.ascontiguousarray(arrays[key])
        digest.update(f"{key}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.view(np.uint8).reshape(-1) if array.size else b"")
    return digest.hexdigest()[:_KEY_LENGTH]


def register_arrays(arrays: Mapping[str, np.ndarray]) -> str:
    """Holds `arrays` in this process as the data set "arrays"; returns their key.

    Set `config.data.name = "arrays"` and `config.data.arrays = key`. Registering the
    same contents again returns the same key and keeps the first copy. The arrays are
    copied, so later edits of the caller's arrays do not change the data set.

    Args:
      arrays: `{"train": [N, ...], "test": [M, ...]}`, optionally `"validation"`, and
        optionally integer labels `"<split>_labels"` `[N]` for every split or for none.
        Inputs are images `[n, h, w]` or `[n, h, w, c]` (a channel axis is added to
        `[n, h, w]`), series `[n, t]` or `[n, t, c]`, or vectors `[n, d]`; every split
        the same per-example shape and dtype. Integer and bool inputs are scaled to
        [0, 1] by their largest value (255 for 8-bit images, 1 for 0/1 or bool); float
        inputs are real-valued and used as they are (`DatasetInfo.value_max` None).

    Returns:
      The key: 16 hex digits of a SHA-256 fingerprint of the arrays' keys, shapes,
      dtypes and bytes.

    Raises:
      DataError: not a mapping of arrays, a missing or unexpected key, an empty split,
        splits of different shapes or dtypes, non-numeric or non-finite inputs, or bad
        labels.
    """
    if not isinstance(arrays, Mapping) or not arrays:
        raise DataError(
            f"register_arrays needs a dict of arrays such as {{'train': x, 'test': y}}; "
            f"got {type(arrays).__name__}{' (empty)' if isinstance(arrays, Mapping) else ''}."
        )
    copies = {}
    for key, value in arrays.items():
        try:
            array = np.array(value, copy=True)
        except ValueError as e:  # Ragged nested lists.
            raise DataError(f"register_arrays: {key!r} is not an array: {e}") from None
        if array.dtype.kind not in "buif":
            raise DataError(
                f"register_arrays: {key!r} holds {array.dtype} values; expected an array of "
                "numbers (bool, integers or floats)."
            )
        array.setflags(write=False)
        copies[str(key)] = array
    layout = check_split_layout(
        {key: (array.shape, array.dtype) for key, array in copies.items()},
        where="register_arrays",
    )
    inputs = {split: copies[split] for split in layout.splits}
    if layout.dtype.kind == "f":
        for split, array in inputs.items():
            if not np.isfinite(array).all():
                raise DataError(
                    f"register_arrays: {split!r} holds NaN or infinite values; replace or "
                    "drop them before training."
                )
    labels, num_classes = None, None
    if layout.labelled:
        labels = {split: copies[f"{split}_labels"].astype(np.int64) for split in layout.splits}
        num_classes = num_classes_of(labels.values(), where="register_arrays")
    key = _fingerprint(copies)
    value_max = value_max_of(inputs.values())
    _REGISTERED.setdefault(key, _Registered(inputs, labels, value_max, num_classes))
    return key


def _registered(key: str) -> _Registered:
    if key not in _REGISTERED:
        raise DataError(
            f"config.data.arrays={key!r} names arrays that are not registered in this "
            "process: arrays given to aelab.data.arrays.register_arrays live only in the "
            "process that registered them. Register the same arrays again in this process "
            "(the same contents give the same key), or save them with np.savez(path, "
            "train=..., test=...) and set config.data.name='npz', config.data.path=path."
        )
    return _REGISTERED[key]


def _input_key(example_shape: tuple[int, ...], chosen: str | None) -> tuple[str, tuple[int, ...]]:
    """(input key, per-example shape of the records) for inputs of `example_shape`."""
    key = chosen or ("inputs" if len(example_shape) == 1 else "image")
    if key == "image" and len(example_shape) not in (2, 3):
        raise DataError(
            f"Arrays data set: images need [n, h, w] or [n, h, w, c] arrays; these are "
            f"[n, {', '.join(map(str, example_shape))}]. Set config.data.input_key to "
            "'inputs' (vectors) or 'series'."
        )
    if key == "series" and len(example_shape) not in (1, 2):
        raise DataError(
            f"Arrays data set: series need [n, t] or [n, t, c] arrays; these are "
            f"[n, {', '.join(map(str, example_shape))}]."
        )
    add_channel = (key == "image" and len(example_shape) == 2) or (
        key == "series" and len(example_shape) == 1
    )
    return key, (*example_shape, 1) if add_channel else example_shape


class _ArraysDataset:
    """Arrays registered in this process with `register_arrays`; `config.arrays` is
    their key. Always in memory; records keep the arrays' order."""

    def _split_arrays(self, data_config: ml_collections.ConfigDict) -> SplitArrays:
        options = ArraysOptions.from_section(data_config, path="data")
        registered = _registered(options.arrays)
        example_shape = next(iter(registered.inputs.values())).shape[1:]
        input_key, shape = _input_key(example_shape, options.input_key)
        return SplitArrays(
            name="arrays",
            input_key=input_key,
            inputs={
                split: array.reshape(len(array), *shape)
                for split, array in registered.inputs.items()
            },
            labels=registered.labels,
            value_max=registered.value_max,
            num_classes=registered.num_classes,
            path=f"in memory {options.arrays}",
        )

    def info(self, data_config: ml_collections.ConfigDict) -> DatasetInfo:
        return self._split_arrays(data_config).info()

    def load(
        self, data_config: ml_collections.ConfigDict, split: str
    ) -> tuple[RecordSource, DatasetInfo]:
        arrays = self._split_arrays(data_config)
        return arrays.source(split), arrays.info()


DATASETS.register("arrays", options=ArraysOptions)(_ArraysDataset())
