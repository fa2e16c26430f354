"""Readers of tables: CSV / TSV (the standard library's csv module) and Parquet
(pyarrow, imported only for a Parquet file). Each returns the columns as written, with
where each row is in the file, for messages; `aelab.data.table` picks and converts them.
"""

from __future__ import annotations

import csv
import dataclasses
import os
from pathlib import Path

import numpy as np

from aelab.data.errors import DataError

CSV_SUFFIXES = {".csv": ",", ".tsv": "\t"}
PARQUET_SUFFIXES = (".parquet", ".pq")
TABLE_SUFFIXES = (*CSV_SUFFIXES, *PARQUET_SUFFIXES)


@dataclasses.dataclass(frozen=True)
class RawTable:
    """A table as read.

    Attributes:
      path: the file.
      names: the column names, in the file's order.
      columns: name -> `[rows]`: strings for CSV (dtype object), NumPy values for
        Parquet (numbers as float64 or int64, text as object).
      lines: the 1-based line of each data row (CSV), or None (Parquet: rows are named
        by their 0-based index).
    """

    path: Path
    names: tuple[str, ...]
    columns: dict[str, np.ndarray]
    lines: tuple[int, ...] | None

    def __len__(self) -> int:
        return len(next(iter(self.columns.values())))

    def where(self, row: int) -> str:
        """Where row `row` (0-based among the data rows) is: "line 7" or "row 5"."""
        return f"row {row}" if self.lines is None else f"line {self.lines[row]}"


def read_table(path: str | os.PathLike) -> RawTable:
    """Reads a `.csv` / `.tsv` file (a header line, then one row a line) or a `.parquet`.

    Raises:
      DataError: a missing or unreadable file, an unknown suffix, an empty file (no
        header or no rows), a duplicated column name, or a row with more or fewer
        fields than the header (the message names the line); pyarrow missing for a
        Parquet file.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise DataError(
            f"Table {path}: unknown suffix {suffix!r}; expected {', '.join(TABLE_SUFFIXES)}."
        )
    if not path.is_file():
        raise DataError(f"Table not found: {path} does not exist or is not a file.")
    table = (
        _read_parquet(path) if suffix in PARQUET_SUFFIXES else _read_csv(path, CSV_SUFFIXES[suffix])
    )
    if len(set(table.names)) != len(table.names):
        duplicated = sorted({name for name in table.names if table.names.count(name) > 1})
        raise DataError(f"Table {path}: column names {duplicated} appear more than once.")
    if not table.columns or not len(table):
        raise DataError(f"Table {path} holds no rows (or no columns).")
    return table


def _read_csv(path: Path, delimiter: str) -> RawTable:
    try:
        with open(path, newline="", encoding="utf-8") as f:
            lines = list(csv.reader(f, delimiter=delimiter))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise DataError(f"Cannot read table {path}: {e}.") from None
    # Blank lines (a trailing newline, spacing) hold no row; keep each row's line number.
    numbered = [(number, row) for number, row in enumerate(lines, start=1) if row]
    if not numbered:
        raise DataError(f"Table {path} is empty; expected a header line of column names.")
    (header_line, header), rows = numbered[0], numbered[1:]
    names = tuple(name.strip() for name in header)
    for number, row in rows:
        if len(row) != len(names):
            raise DataError(
                f"Table {path}, line {number}: {len(row)} fields; the header (line "
                f"{header_line}) has {len(names)}. Every row needs one value per column."
            )
    cells = np.empty((len(rows), len(names)), dtype=object)
    for index, (_, row) in enumerate(rows):
        cells[index] = row
    columns = {name: cells[:, index] for index, name in enumerate(names)}
    return RawTable(path, names, columns, lines=tuple(number for number, _ in rows))


def _read_parquet(path: Path) -> RawTable:
    try:
        import pyarrow.parquet as pq  # Only Parquet files need pyarrow.
    except ImportError:
        raise DataError(
            f"Reading the Parquet file {path} needs pyarrow: pip install pyarrow (or save "
            "the table as .csv)."
        ) from None
    try:
        table = pq.read_table(path)
    except (OSError, ValueError) as e:
        raise DataError(f"Cannot read Parquet file {path}: {e}") from None
    columns = {}
    for name in table.column_names:
        column = table.column(name)
        if column.null_count:
            values = column.to_pylist()
            first = next(row for row, value in enumerate(values) if value is None)
            raise DataError(
                f"Table {path}, column {name!r}, row {first}: missing value (null); fill "
                "or drop missing values before training."
            )
        columns[name] = column.to_numpy(zero_copy_only=False)
    return RawTable(path, tuple(table.column_names), columns, lines=None)
