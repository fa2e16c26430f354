"""TFDS's split syntax over named index arrays: `train`, `train[:90%]`, `train+test`."""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

from aelab.data.errors import DataError

_SPLIT_PART = re.compile(r"^(?P<split>\w+)(?:\[(?P<start>-?\d+%?)?:(?P<stop>-?\d+%?)?\])?$")


def _slice_bound(text: str | None, size: int, spec: str) -> int | None:
    """A slice boundary `12`, `-5` or `90%` as an index into `size` items (TFDS rounding)."""
    if text is None:
        return None
    if text.endswith("%"):
        percent = float(text[:-1])
        if abs(percent) > 100:
            raise DataError(f"Split {spec!r}: {text} is not a percentage in [-100%, 100%].")
        return round(percent * size / 100)
    if abs(int(text)) > size:
        raise DataError(f"Split {spec!r}: boundary {text} is outside a split of {size}.")
    return int(text)


def select_split(spec: str, splits: Mapping[str, np.ndarray]) -> np.ndarray:
    """Indices for a split spec over named index arrays, in TFDS's split syntax.

    Args:
      spec: a split name (`train`), a slice (`train[:90%]`, `train[100:]`, `test[-50:]`)
        or a sum of them (`train+test`). Percentages round to the closest index.
      splits: split name -> indices `[N_split]`.

    Returns:
      int64 indices `[N]`.
    """
    parts = []
    for part in spec.split("+"):
        match = _SPLIT_PART.match(part.strip())
        if match is None or match["split"] not in splits:
            raise DataError(
                f"Unknown split {spec!r}: expected one of {sorted(splits)}, optionally "
                "sliced like 'train[:90%]' or 'train[100:]', or a sum like 'train+test'."
            )
        indices = splits[match["split"]]
        start = _slice_bound(match["start"], len(indices), spec)
        stop = _slice_bound(match["stop"], len(indices), spec)
        parts.append(indices[start:stop])
    return np.concatenate(parts).astype(np.int64)
