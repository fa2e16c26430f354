"""The layout a user's own arrays follow (an `.npz` file, arrays registered in memory):
one array per split, `train` and `test` (required) and `validation` (optional), and
optionally integer labels `<split>_labels` for every split or for none. Also how their
raw values map to [0, 1] (`value_max_of`) and how many classes their labels make.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

import numpy as np

from aelab.data.errors import DataError

NPZ_SPLITS = ("train", "validation", "test")
_REQUIRED_SPLITS = ("train", "test")


@dataclasses.dataclass(frozen=True)
class SplitLayout:
    """What a valid set of split arrays holds.

    Attributes:
      splits: the splits present, in the order of `NPZ_SPLITS`, e.g. ("train", "test").
      example_shape: the per-example shape of the inputs, e.g. (28, 28) or (8, 8, 1).
      dtype: the inputs' dtype (the same for every split).
      labelled: whether every split has `<split>_labels`.
    """

    splits: tuple[str, ...]
    example_shape: tuple[int, ...]
    dtype: np.dtype
    labelled: bool


def check_split_layout(
    headers: Mapping[str, tuple[tuple[int, ...], np.dtype]], where: str
) -> SplitLayout:
    """Checks the shapes and dtypes of split arrays against the layout of this module.

    Args:
      headers: `{key: (shape, dtype)}`, e.g. `{"train": ((100, 8, 8), uint8), ...}`.
      where: what holds them, for messages: ".npz file /data/x.npz", "register_arrays".

    Returns:
      The layout.

    Raises:
      DataError: unexpected or missing keys, an empty split, splits of different
        per-example shapes or dtypes, non-numeric inputs, labels for only some splits,
        or labels that are not integers `[N]`.
    """
    allowed = set(NPZ_SPLITS) | {f"{split}_labels" for split in NPZ_SPLITS}
    unexpected = sorted(set(headers) - allowed)
    missing = [split for split in _REQUIRED_SPLITS if split not in headers]
    if unexpected or missing:
        raise DataError(
            f"{where} holds arrays {sorted(headers)}; expected 'train' and 'test', "
            "optionally 'validation', and optionally '<split>_labels' for each split"
            + (f" (missing: {missing})" if missing else "")
            + (f" (unexpected: {unexpected})" if unexpected else "")
            + "."
        )
    splits = tuple(split for split in NPZ_SPLITS if split in headers)
    shape, dtype = headers["train"]
    for split in splits:
        split_shape, split_dtype = headers[split]
        if len(split_shape) < 1 or split_shape[1:] != shape[1:] or split_dtype != dtype:
            raise DataError(
                f"{where}: '{split}' is {split_dtype} {split_shape} but 'train' is "
                f"{dtype} {shape}; every split needs the same per-example shape and dtype."
            )
        if split_shape[0] == 0:
            raise DataError(f"{where}: '{split}' holds no examples (shape {split_shape}).")
    if dtype.kind not in "buif":
        raise DataError(f"{where}: inputs have dtype {dtype}; expected numbers.")
    labelled_splits = [split for split in splits if f"{split}_labels" in headers]
    if labelled_splits and len(labelled_splits) != len(splits):
        raise DataError(
            f"{where}: only {labelled_splits} have '<split>_labels'; give labels "
            f"for every split {list(splits)} or for none."
        )
    for split in labelled_splits:
        label_shape, label_dtype = headers[f"{split}_labels"]
        if label_shape != headers[split][0][:1] or label_dtype.kind not in "iu":
            raise DataError(
                f"{where}: '{split}_labels' is {label_dtype} {label_shape}; expected "
                f"integers of shape ({headers[split][0][0]},)."
            )
    return SplitLayout(splits, tuple(shape[1:]), np.dtype(dtype), bool(labelled_splits))


def value_max_of(inputs: Iterable[np.ndarray]) -> float | None:
    """`DatasetInfo.value_max` for raw inputs: the largest value of integer or bool inputs
    (255 for 8-bit images that use the full range, 16 for the digits, 1 for 0/1 masks; at
    least 1), None for floats and for integers with negative values (real-valued: not
    scaled).

    Args:
      inputs: the arrays of every split, `[N, ...]` each, of one dtype.
    """
    inputs = list(inputs)
    if not inputs or inputs[0].dtype.kind not in "biu":
        return None
    if min(int(array.min(initial=0)) for array in inputs) < 0:
        return None
    return float(max(1, max(int(array.max(initial=0)) for array in inputs)))


def num_classes_of(labels: Iterable[np.ndarray], where: str) -> int:
    """The number of classes of integer labels `[N]` (the largest label + 1).

    Raises:
      DataError: negative labels.
    """
    labels = list(labels)
    if min(int(split.min(initial=0)) for split in labels) < 0:
        raise DataError(f"{where} holds negative labels; labels are classes 0, 1, 2, ...")
    return int(max(int(split.max(initial=0)) for split in labels)) + 1
