"""Any UCR/UEA time-series data set by folder name: `config.data.name = "ucr:GunPoint"`.

The files are those the archive distributes (https://www.timeseriesclassification.com),
in `<data dir>/ucr/<Name>/` (`config.data.archive_folder` changes `ucr`): `<Name>_TRAIN`
and `<Name>_TEST` as `.ts` (univariate or multivariate, equal length; preferred), `.tsv`
/ `.txt` (the class first) or `.arff`. Series become `series` [T, C] (C = 1 for
univariate sets), labels 0..K-1 in the order the `.ts` header declares its classes (else
the sorted class values), so `train_labels=(0,)` trains on the first class: the
one-class protocol of anomaly detection (train on a normal class, score every test
series, the other classes are the anomalies).

Archive series come z-normalised per series; `normalize="series"` does it here for sets
that do not. ECG5000 also has its own name (`ecg5000`, prepared from its files).
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import numpy as np

from aelab.core.options import Options, option, options_class
from aelab.data.errors import DataError
from aelab.data.readers import read_ucr
from aelab.data.records import ArraySource, DatasetInfo, RecordSource
from aelab.data.sources import data_root, register_prefix
from aelab.data.splits import select_split
from aelab.data.ts_reader import read_ts

UCR_PREFIX = "ucr:"
_SUFFIXES = (".ts", ".tsv", ".txt", ".arff")
NORMALIZATIONS = ("none", "series")


@options_class
class UcrOptions(Options):
    """`config.data` options of the `ucr:<Name>` data sets."""

    archive_folder: str = option(
        "ucr", "the folder under the data dir holding one folder per data set"
    )
    normalize: str = option(
        "none",
        "'series': z-normalise each series (archive files already are)",
        choices=NORMALIZATIONS,
    )


def _split_file(folder: Path, name: str, split: str) -> Path:
    for suffix in _SUFFIXES:
        path = folder / f"{name}_{split}{suffix}"
        if path.is_file():
            return path
    raise DataError(
        f"UCR data set {name!r}: no {name}_{split}{{{','.join(_SUFFIXES)}}} in {folder}. "
        "Download the data set from https://www.timeseriesclassification.com and unpack it "
        f"there, or set config.data.data_dir to the folder that holds ucr/{name}/."
    )


def _read(path: Path) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """(series [N, T, C] float32, labels as strings [N], declared classes)."""
    if path.suffix == ".ts":
        contents = read_ts(path)
        return contents.series, contents.labels, contents.class_names
    series, classes = read_ucr(path)
    return series[:, :, None], classes.astype(str), ()


def _class_order(labels: np.ndarray, declared: tuple[str, ...]) -> list[str]:
    if declared:
        return list(declared)
    values = sorted(set(labels.tolist()))
    try:
        return sorted(values, key=float)
    except ValueError:
        return values


@functools.lru_cache(maxsize=8)
def _load_arrays(folder: str, name: str, normalize: str, stamp: tuple) -> dict:
    """{"series": [N, T, C], "label": int64 [N], "splits": {"train": idx, "test": idx},
    "classes": [...]} of both files (cached by their modification times `stamp`)."""
    del stamp
    parts = {split: _read(_split_file(Path(folder), name, split)) for split in ("TRAIN", "TEST")}
    (train, train_labels, declared), (test, test_labels, _) = parts["TRAIN"], parts["TEST"]
    if train.shape[1:] != test.shape[1:]:
        raise DataError(
            f"UCR data set {name!r}: train series are {train.shape[1:]} (time, dimensions) "
            f"but test series {test.shape[1:]}; both splits must share them."
        )
    labels = np.concatenate([train_labels, test_labels])
    classes = _class_order(labels, declared)
    index = {c: i for i, c in enumerate(classes)}
    unknown = sorted(set(labels.tolist()) - set(index))
    if unknown:
        raise DataError(f"UCR data set {name!r}: classes {unknown} are not declared.")
    series = np.concatenate([train, test]).astype(np.float32)
    if np.isnan(series).any():
        raise DataError(f"UCR data set {name!r} has missing values ('?'); aelab needs none.")
    if normalize == "series":
        mean = series.mean(axis=1, keepdims=True)
        std = series.std(axis=1, keepdims=True)
        series = (series - mean) / np.maximum(std, 1e-8)
    return {
        "series": series,
        "label": np.asarray([index[c] for c in labels.tolist()], np.int64),
        "splits": {
            "train": np.arange(len(train)),
            "test": np.arange(len(train), len(train) + len(test)),
        },
        "classes": classes,
    }


@dataclasses.dataclass(frozen=True)
class UcrDataset:
    """One UCR/UEA data set, by its folder name (see the module docstring)."""

    name: str

    def _arrays(self, data_config) -> dict:
        options = UcrOptions.from_section(data_config, path="data")
        root = data_root(data_config)
        if root is None:
            raise DataError(
                f"UCR data set {self.name!r}: no data folder is set. Set AELAB_DATA_DIR (or "
                f"config.data.data_dir) to the folder that holds {options.archive_folder}/"
                f"{self.name}/."
            )
        folder = root / options.archive_folder / self.name
        if not folder.is_dir():
            raise DataError(
                f"UCR data set {self.name!r}: folder {folder} does not exist. Unpack the "
                "data set from https://www.timeseriesclassification.com there."
            )
        stamp = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in folder.iterdir()))
        return _load_arrays(str(folder), self.name, options.normalize, stamp)

    def info(self, data_config) -> DatasetInfo:
        arrays = self._arrays(data_config)
        return DatasetInfo(
            name=UCR_PREFIX + self.name,
            input_key="series",
            input_shape=tuple(arrays["series"].shape[1:]),
            value_max=None,
            num_classes=len(arrays["classes"]),
            splits={split: len(idx) for split, idx in arrays["splits"].items()},
        )

    def load(self, data_config, split: str) -> tuple[RecordSource, DatasetInfo]:
        arrays = self._arrays(data_config)
        indices = select_split(split, arrays["splits"])
        source = ArraySource(
            {"series": arrays["series"][indices], "label": arrays["label"][indices]},
            name=UCR_PREFIX + self.name,
            split=split,
        )
        return source, self.info(data_config)


register_prefix(UCR_PREFIX, UcrDataset, UcrOptions)
