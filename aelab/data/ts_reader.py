"""The `.ts` format of the UCR/UEA time-series archive (sktime and aeon write it too).

A header of `@key value` lines (`@problemName`, `@univariate`, `@dimensions`,
`@equalLength`, `@seriesLength`, `@classLabel true A B ...`, `@timeStamps`, `@missing`),
`#` comments, then `@data` and one series a line: the values of each dimension
comma-separated, dimensions separated by `:`, the class label last. Only equal-length
series without time stamps are read (the archive's `_eq` files are the equal-length
versions of the others).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from aelab.data.errors import DataError


@dataclasses.dataclass(frozen=True)
class TsFile:
    """The contents of one `.ts` file.

    Attributes:
      series: float32 [N, T, C] (C dimensions; missing values `?` are NaN).
      labels: the class label of each series, as written: str [N] (empty without labels).
      class_names: the labels the header declares, in its order (() if it declares none).
      problem: `@problemName`.
    """

    series: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    problem: str


def _header(path: Path, lines: list[str]) -> tuple[dict[str, list[str]], int]:
    header: dict[str, list[str]] = {}
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if not text.startswith("@"):
            raise DataError(f".ts file {path}, line {number}: data before the @data line.")
        key, *values = text[1:].split()
        if key.lower() == "data":
            return header, number
        header[key.lower()] = values
    raise DataError(f".ts file {path} has no @data line: not a .ts file, or truncated.")


def _flag(header: dict[str, list[str]], key: str, default: bool) -> bool:
    values = header.get(key.lower())
    return default if not values else values[0].lower() == "true"


def read_ts(path: str | os.PathLike) -> TsFile:
    """Reads a `.ts` file (see the module docstring).

    Raises:
      DataError: a missing file, a malformed header or line (with its 1-based number),
        series of unequal length or dimension count, time stamps, or labels the header
        does not declare.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f".ts file not found: {path} does not exist or is not a file.")
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    header, data_line = _header(path, lines)
    if _flag(header, "timeStamps", False):
        raise DataError(f".ts file {path} has time stamps; only plain values are read.")
    if not _flag(header, "equalLength", True):
        raise DataError(
            f".ts file {path} holds series of unequal length; use the archive's equal-length "
            "version of the data set (its *_eq files) or resample the series."
        )
    labelled = _flag(header, "classLabel", False)
    declared = tuple(header.get("classlabel", [])[1:]) if labelled else ()
    rows, labels = [], []
    for number, line in enumerate(lines[data_line:], start=data_line + 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        parts = text.split(":")
        if labelled:
            if len(parts) < 2:
                raise DataError(f".ts file {path}, line {number}: no class label after ':'.")
            *parts, label = parts
            if declared and label.strip() not in declared:
                raise DataError(
                    f".ts file {path}, line {number}: class {label.strip()!r} is not among "
                    f"the declared classes {list(declared)}."
                )
            labels.append(label.strip())
        try:
            dims = [
                np.array([np.nan if v.strip() == "?" else float(v) for v in part.split(",")])
                for part in parts
            ]
        except ValueError:
            raise DataError(
                f".ts file {path}, line {number}: a value is not a number: {text[:60]!r}."
            ) from None
        if len({len(d) for d in dims}) != 1:
            raise DataError(f".ts file {path}, line {number}: dimensions of unequal length.")
        series = np.stack(dims, axis=-1)  # [T, C]
        if rows and series.shape != rows[0].shape:
            raise DataError(
                f".ts file {path}, line {number}: a series of shape {series.shape} (time, "
                f"dimensions); the first one is {rows[0].shape}. Series must share both."
            )
        rows.append(series)
    if not rows:
        raise DataError(f".ts file {path} holds no series after @data.")
    problem = " ".join(header.get("problemname", [path.stem]))
    return TsFile(
        series=np.stack(rows).astype(np.float32),
        labels=np.asarray(labels, dtype=str),
        class_names=declared,
        problem=problem,
    )
