"""Pure-NumPy parsers for the raw data files aelab knows: IDX, .amat, UCR and .npz.

Every reader raises `DataError` naming the file for a missing, truncated or malformed
input, so a bad download shows up as one readable line rather than a NumPy traceback.
"""

from __future__ import annotations

import gzip
import os
import zipfile
import zlib
from pathlib import Path

import numpy as np

from aelab.data.errors import DataError

IDX_IMAGES_MAGIC = 2051
IDX_LABELS_MAGIC = 2049
_IDX_RANK = {IDX_IMAGES_MAGIC: 3, IDX_LABELS_MAGIC: 1}
_GZIP_MAGIC = b"\x1f\x8b"
_NPY_HEADER_READERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}

AMAT_PIXELS = 784
# One .amat row: 784 characters '0'/'1', each followed by a space, the last by '\n'.
_AMAT_ROW_BYTES = 2 * AMAT_PIXELS


def _read_bytes(path: Path, what: str) -> bytes:
    """Returns the (gunzipped, if it starts with the gzip magic) contents of `path`."""
    if not path.is_file():
        raise DataError(f"{what} not found: {path} does not exist or is not a file.")
    try:
        with open(path, "rb") as f:
            data = f.read()
        if data[:2] == _GZIP_MAGIC:
            data = gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as e:
        # gzip raises EOFError for a truncated stream and BadGzipFile (an OSError) for
        # a corrupt header.
        raise DataError(
            f"Cannot read {what} {path}: {e}. The file is truncated or corrupt; download it again."
        ) from None
    return data


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Reads an IDX file (MNIST / Fashion-MNIST format), gzipped or plain.

    Args:
      path: an images file (magic 2051) or a labels file (magic 2049).

    Returns:
      uint8 images `[N, H, W]` or uint8 labels `[N]`.

    Raises:
      DataError: missing file, corrupt gzip, unknown magic number, or a byte count
        that does not match the header (truncated or padded file).
    """
    path = Path(path)
    data = _read_bytes(path, "IDX file")
    if len(data) < 4:
        raise DataError(f"IDX file {path} is {len(data)} bytes long: too short for a header.")
    magic = int.from_bytes(data[:4], "big")
    if magic not in _IDX_RANK:
        raise DataError(
            f"IDX file {path} has magic number {magic}; expected {IDX_IMAGES_MAGIC} "
            f"(uint8 images) or {IDX_LABELS_MAGIC} (uint8 labels). Is it an MNIST-format "
            "file, and was it decompressed correctly?"
        )
    rank = _IDX_RANK[magic]
    header_bytes = 4 + 4 * rank
    if len(data) < header_bytes:
        raise DataError(f"IDX file {path} ends inside its {header_bytes}-byte header.")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(rank))
    expected = header_bytes + int(np.prod(shape))
    if len(data) != expected:
        raise DataError(
            f"IDX file {path} holds {len(data)} bytes but its header (shape {shape}) "
            f"implies {expected}: the file is truncated or corrupt; download it again."
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header_bytes).reshape(shape)


def read_amat(path: str | os.PathLike) -> np.ndarray:
    """Reads a binarized-MNIST `.amat` (or `.amat.gz`) file of 784 space-separated 0/1s a row.

    Args:
      path: the .amat file, gzipped or plain.

    Returns:
      uint8 `[N, 784]` with values in {0, 1}.

    Raises:
      DataError: missing or corrupt file, a row without exactly 784 values, or a value
        other than 0 and 1 (the message gives the 1-based line number).
    """
    path = Path(path)
    data = _read_bytes(path, ".amat file")
    raw = np.frombuffer(data, dtype=np.uint8)
    # Fast path for the canonical layout ('0 1 ... 1\n'): the digits are every second byte.
    if raw.size and raw.size % _AMAT_ROW_BYTES == 0:
        rows = raw.reshape(-1, _AMAT_ROW_BYTES)
        digits, separators = rows[:, 0::2], rows[:, 1::2]
        if (
            np.all((digits == ord("0")) | (digits == ord("1")))
            and np.all(separators[:, :-1] == ord(" "))
            and np.all(separators[:, -1] == ord("\n"))
        ):
            return digits - np.uint8(ord("0"))
    return _read_amat_lines(path, data)


def _read_amat_lines(path: Path, data: bytes) -> np.ndarray:
    """Slow, line-by-line .amat parser: other whitespace, or a precise error message."""
    rows = []
    for line_number, line in enumerate(data.splitlines(), start=1):
        tokens = line.split()
        if not tokens:
            continue
        if len(tokens) != AMAT_PIXELS:
            raise DataError(
                f".amat file {path}, line {line_number}: {len(tokens)} values; expected "
                f"{AMAT_PIXELS} (one 28x28 binarized image a line). The file is corrupt "
                "or not binarized MNIST."
            )
        if any(token not in (b"0", b"1") for token in tokens):
            raise DataError(
                f".amat file {path}, line {line_number}: values must be 0 or 1. The file "
                "is corrupt or not binarized MNIST."
            )
        rows.append(np.frombuffer(b"".join(tokens), dtype=np.uint8) - np.uint8(ord("0")))
    if not rows:
        raise DataError(f".amat file {path} holds no rows.")
    return np.stack(rows)


def read_ucr(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Reads a UCR time-series file: `.arff`, `.csv`, `.txt` or `.tsv`.

    Formats (one series a row, all rows the same length):
      `.arff`: comma-separated values then the class; the ARFF header (`@relation`,
        `@attribute`, `@data`) and `%` comments are optional.
      `.csv`: comma-separated values then the class (like `ecg5000_5sig.csv`).
      `.txt` / `.tsv`: whitespace-separated, the class FIRST (the UCR archive's text format).

    Args:
      path: the file.

    Returns:
      `(series, labels)`: float32 `[N, T]` and the UCR classes as int64 `[N]`, unchanged
      (ECG5000's run 1..5).

    Raises:
      DataError: missing file, unknown suffix, a non-numeric or non-integral value,
        or rows of different lengths (the message gives the 1-based line number).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".arff", ".csv", ".txt", ".tsv"):
        raise DataError(
            f"UCR file {path}: unknown suffix {suffix!r}; expected .arff, .csv, .txt or .tsv."
        )
    text = _read_bytes(path, "UCR file").decode("utf-8", errors="replace")
    class_first = suffix in (".txt", ".tsv")
    separator = None if class_first else ","
    lines = text.splitlines()
    if suffix == ".arff":
        lines = _arff_data_lines(path, lines)
    rows = []
    for line_number, line in _numbered_data_lines(lines):
        tokens = line.split(separator)
        try:
            # UCR .arff files quote nominal classes ('1'); strip the quotes.
            row = np.array([token.strip().strip("'\"") for token in tokens], dtype=np.float64)
        except ValueError:
            raise DataError(
                f"UCR file {path}, line {line_number}: non-numeric value in "
                f"{line[:60]!r}{'...' if len(line) > 60 else ''}."
            ) from None
        if rows and row.size != rows[0].size:
            raise DataError(
                f"UCR file {path}, line {line_number}: {row.size} columns; the first row "
                f"has {rows[0].size}. All series must have the same length."
            )
        rows.append(row)
    if not rows:
        raise DataError(f"UCR file {path} holds no rows.")
    if rows[0].size < 2:
        raise DataError(f"UCR file {path}: rows need a class and at least one value.")
    table = np.stack(rows)
    classes = table[:, 0] if class_first else table[:, -1]
    series = table[:, 1:] if class_first else table[:, :-1]
    if not np.all(np.isfinite(classes) & (classes == np.round(classes))):
        raise DataError(f"UCR file {path}: the class column holds non-integer values.")
    return series.astype(np.float32), classes.astype(np.int64)


def _numbered_data_lines(lines: list[str]) -> list[tuple[int, str]]:
    """Returns `(1-based line number, line)` for the non-blank, non-comment lines."""
    return [
        (number, line)
        for number, line in enumerate(lines, start=1)
        if line.strip() and not line.lstrip().startswith("%")
    ]


def _arff_data_lines(path: Path, lines: list[str]) -> list[str]:
    """Blanks out an ARFF header (everything up to `@data`), keeping line numbers."""
    for index, line in enumerate(lines):
        if line.strip().lower() == "@data":
            return [""] * (index + 1) + lines[index + 1 :]
    # A header without `@data` is malformed; with no header at all, every line is data.
    if any(line.lstrip().startswith("@") for line in lines):
        raise DataError(f"ARFF file {path} has a header (@...) but no @data line.")
    return lines


def read_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Reads every array of a `.npz` file (no pickled objects).

    Returns:
      `{key: array}` for each array in the file.

    Raises:
      DataError: missing, truncated or corrupt file, or one that holds pickled objects.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f".npz file not found: {path} does not exist or is not a file.")
    try:
        # Open the file here: np.load leaks its own handle when the archive is corrupt.
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as e:
        raise DataError(
            f"Cannot read .npz file {path}: {e}. Write it with np.savez or "
            "np.savez_compressed, with plain numeric arrays (no object arrays)."
        ) from None


def read_npz_headers(path: str | os.PathLike) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Reads the shape and dtype of every array of a `.npz` file without loading the data.

    Returns:
      `{key: (shape, dtype)}`.

    Raises:
      DataError: missing or corrupt file, or an entry that is not a .npy array.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f".npz file not found: {path} does not exist or is not a file.")
    headers = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if not member.endswith(".npy"):
                    raise DataError(f".npz file {path}: entry {member!r} is not a .npy array.")
                with archive.open(member) as f:
                    version = np.lib.format.read_magic(f)
                    if version not in _NPY_HEADER_READERS:
                        raise DataError(
                            f".npz file {path}: entry {member!r} uses .npy format {version}; "
                            "expected 1.0 or 2.0 (what np.savez writes)."
                        )
                    shape, _, dtype = _NPY_HEADER_READERS[version](f)
                headers[member.removesuffix(".npy")] = (tuple(shape), np.dtype(dtype))
    except DataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as e:
        raise DataError(
            f"Cannot read .npz file {path}: {e}. Write it with np.savez or np.savez_compressed."
        ) from None
    return headers
