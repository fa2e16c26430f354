"""A table of numbers as a data set (`config.data.name = "table"`): rows of a CSV, TSV or
Parquet file become vectors `inputs` float32 [d], real-valued (not scaled).

`config.data.path` is either
  - one file: every row is in `train` (slice it: `train[:90%]`, or let
    `validation_fraction` carve a validation part), unless `split_column` names a column
    whose values ("train", "validation", "test") say each row's split; or
  - a folder holding `train.<ext>` and `test.<ext>` (optionally `validation.<ext>`),
    `<ext>` one of csv, tsv, parquet, with the same columns.
The features are `columns` (default: every numeric column but the label and split
columns); `label_column` gives labels (its values, sorted, become classes 0, 1, ...).

Tables are read straight into memory (one `SplitArrays`, cached per process while the
files are unchanged), not prepared through a TFDS builder as image files are: parsing a
table of numbers is quick, its records are small rows, and reading it at the start of a
run keeps one copy on disk (the user's) and shows a bad cell before anything is built.
"""

from __future__ import annotations

import functools
from pathlib import Path

import ml_collections
import numpy as np

from aelab.core.options import Options, option, options_class
from aelab.data.errors import DataError
from aelab.data.records import DatasetInfo, RecordSource
from aelab.data.sources import DATASETS, user_path
from aelab.data.split_arrays import SplitArrays
from aelab.data.split_layout import NPZ_SPLITS
from aelab.data.table_reader import TABLE_SUFFIXES, RawTable, read_table


@options_class
class TableOptions(Options):
    """`config.data` options of the "table" data set."""

    path: str = option(
        doc="a .csv/.tsv/.parquet file, or a folder of train.<ext>, test.<ext> (and "
        "optionally validation.<ext>); relative paths are taken from the data dir"
    )
    columns: tuple[str, ...] | None = option(
        None,
        "the feature columns, in this order (None: every numeric column but the label "
        "and split columns)",
        min_length=1,
    )
    label_column: str | None = option(
        None, "a column of class labels (its sorted values become classes 0, 1, ...)"
    )
    split_column: str | None = option(
        None, "a column naming each row's split: 'train', 'validation' or 'test'"
    )


def _number(value) -> float | None:
    """`value` as a float, or None when it is not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _is_numeric(table: RawTable, name: str) -> bool:
    """Whether column `name` holds numbers: by type (Parquet), by its first value (CSV)."""
    column = table.columns[name]
    if column.dtype.kind in "biuf":
        return True
    return column.dtype == object and _number(column[0]) is not None


def _numbers(table: RawTable, name: str) -> np.ndarray:
    """Column `name` as float64 `[rows]`.

    Raises:
      DataError: a value that is not a finite number (the message names column and row).
    """
    column = table.columns[name]
    if column.dtype.kind in "biuf":
        values = column.astype(np.float64)
    else:
        values = np.empty(len(column), np.float64)
        for row, cell in enumerate(column):
            number = _number(cell)
            if number is None:
                shown = "an empty value" if str(cell).strip() == "" else f"{cell!r}"
                raise DataError(
                    f"Table {table.path}, column {name!r}, {table.where(row)}: {shown} is not "
                    "a number. Fix or drop the row, or leave the column out of "
                    "config.data.columns."
                )
            values[row] = number
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise DataError(
            f"Table {table.path}, column {name!r}, {table.where(int(bad[0]))}: "
            f"{values[bad[0]]} is not a finite number; fill or drop missing values."
        )
    return values


def _check_columns(table: RawTable, names: list[str], what: str) -> None:
    missing = [name for name in names if name not in table.columns]
    if missing:
        raise DataError(
            f"Table {table.path} has no column {', '.join(map(repr, missing))} ({what}); "
            f"its columns: {list(table.names)}."
        )


def _feature_columns(table: RawTable, options: TableOptions) -> list[str]:
    special = [name for name in (options.label_column, options.split_column) if name]
    _check_columns(table, special, "config.data.label_column / split_column")
    if options.columns is not None:
        _check_columns(table, list(options.columns), "config.data.columns")
        return list(options.columns)
    features = [name for name in table.names if name not in special and _is_numeric(table, name)]
    if not features:
        raise DataError(
            f"Table {table.path} has no numeric column besides {special}: its columns are "
            f"{list(table.names)}. Name the feature columns in config.data.columns."
        )
    return features


def _split_tables(path: Path, split_column: str | None) -> dict[str, RawTable]:
    """{split: table} of a file (all rows "train", or split by `split_column`) or folder."""
    if path.is_dir():
        if split_column is not None:
            raise DataError(
                f"Table folder {path}: config.data.split_column is for one file; a folder's "
                "splits are its files. Set split_column to None."
            )
        tables = {}
        for split in NPZ_SPLITS:
            found = [path / f"{split}{suffix}" for suffix in TABLE_SUFFIXES]
            found = [file for file in found if file.is_file()]
            if len(found) > 1:
                raise DataError(f"Table folder {path} holds {[f.name for f in found]}; keep one.")
            if found:
                tables[split] = read_table(found[0])
        if "train" not in tables or "test" not in tables:
            raise DataError(
                f"Table folder {path} needs train.<ext> and test.<ext> (optionally "
                f"validation.<ext>), <ext> one of {', '.join(s[1:] for s in TABLE_SUFFIXES)}; "
                f"it holds {sorted(p.name for p in path.iterdir())}."
            )
        return tables
    if not path.exists():
        raise DataError(
            f"Table not found: {path} does not exist. Set config.data.path to a "
            ".csv/.tsv/.parquet file or a folder of train.<ext> and test.<ext>."
        )
    return {"train": read_table(path)}


def _rows_by_split(table: RawTable, split_column: str) -> dict[str, np.ndarray]:
    """{split: row indices} from the values of `split_column`."""
    _check_columns(table, [split_column], "config.data.split_column")
    values = np.array([str(value).strip() for value in table.columns[split_column]], object)
    unknown = sorted(set(values.tolist()) - set(NPZ_SPLITS))
    if unknown:
        row = int(np.flatnonzero(~np.isin(values, NPZ_SPLITS))[0])
        raise DataError(
            f"Table {table.path}, column {split_column!r}, {table.where(row)}: split "
            f"{str(values[row])!r}; expected one of {list(NPZ_SPLITS)} (unknown values: {unknown})."
        )
    if "train" not in values:
        raise DataError(f"Table {table.path}: column {split_column!r} names no 'train' rows.")
    return {split: np.flatnonzero(values == split) for split in NPZ_SPLITS if split in values}


def _classes(values: list[np.ndarray]) -> tuple[list, dict]:
    """(sorted classes, value -> class index) of label columns: numbers sort by value."""
    every = np.concatenate(values)
    numbers = [_number(value) for value in every]
    if all(number is not None for number in numbers):
        classes = sorted(set(numbers))
        return classes, {
            value: classes.index(number) for value, number in zip(every, numbers, strict=True)
        }
    classes = sorted({str(value) for value in every})
    index = {name: i for i, name in enumerate(classes)}
    return classes, {value: index[str(value)] for value in every}


def _load(path: Path, options: TableOptions) -> SplitArrays:
    tables = _split_tables(path, options.split_column)
    if options.split_column is not None:
        (table,) = tables.values()
        rows = _rows_by_split(table, options.split_column)
        parts = {split: (table, indices) for split, indices in rows.items()}
    else:
        parts = {split: (table, np.arange(len(table))) for split, table in tables.items()}
    features = _feature_columns(parts["train"][0], options)
    inputs, label_values = {}, {}
    for split, (table, indices) in parts.items():
        if table is not parts["train"][0]:
            _check_columns(table, features, f"the features of {parts['train'][0].path.name}")
        matrix = np.stack([_numbers(table, name) for name in features], axis=1)
        inputs[split] = matrix[indices].astype(np.float32)
        if options.label_column is not None:
            _check_columns(table, [options.label_column], "config.data.label_column")
            label_values[split] = table.columns[options.label_column][indices]
    labels, num_classes = None, None
    if label_values:
        classes, index = _classes(list(label_values.values()))
        labels = {
            split: np.array([index[value] for value in values], np.int64)
            for split, values in label_values.items()
        }
        num_classes = len(classes)
    for split, array in inputs.items():
        if not len(array):
            raise DataError(f"Table {path}: split {split!r} holds no rows.")
    return SplitArrays(
        name="table",
        input_key="inputs",
        inputs=inputs,
        labels=labels,
        value_max=None,
        num_classes=num_classes,
        path=str(path),
    )


@functools.lru_cache(maxsize=8)
def _cached(path: Path, stamp: tuple, options: TableOptions) -> SplitArrays:
    del stamp  # Part of the cache key only: an edited file is read again.
    return _load(path, options)


def _stamp(path: Path) -> tuple:
    """(name, size, mtime) of the file, or of every file in the folder."""
    files = sorted(path.iterdir()) if path.is_dir() else [path] if path.exists() else []
    return tuple((file.name, file.stat().st_size, file.stat().st_mtime_ns) for file in files)


class _TableDataset:
    """A CSV, TSV or Parquet table (or a folder of one per split); see the module
    docstring. Always in memory; records keep the rows' order."""

    def _split_arrays(self, data_config: ml_collections.ConfigDict) -> SplitArrays:
        options = TableOptions.from_section(data_config, path="data")
        path = user_path(data_config, options.path)
        path = path.resolve()
        return _cached(path, _stamp(path), options)

    def info(self, data_config: ml_collections.ConfigDict) -> DatasetInfo:
        return self._split_arrays(data_config).info()

    def load(
        self, data_config: ml_collections.ConfigDict, split: str
    ) -> tuple[RecordSource, DatasetInfo]:
        arrays = self._split_arrays(data_config)
        return arrays.source(split), arrays.info()


DATASETS.register("table", options=TableOptions)(_TableDataset())
