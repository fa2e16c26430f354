"""ECG5000 (UCR archive) from its UCR train/test files or the fda.tsc `ecg5000_5sig.csv`."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import tensorflow_datasets as tfds

from aelab.data import readers
from aelab.data.builders.features import _DATA_DIR_HINT, _find_file, _manual_folder, array_feature
from aelab.data.errors import DataError

# The package's logger, as before builders.py became a package: callers filter on its name.
logger = logging.getLogger("aelab.data.builders")

ECG_LENGTH = 140
ECG_TRAIN_SIZE = 500
ECG_TOTAL_SIZE = 5000
ECG_NUM_CLASSES = 5


class AelabEcg5000(tfds.core.GeneratorBasedBuilder):
    """ECG5000 (UCR archive): 5,000 heartbeats of 140 z-normalised samples, 5 classes.

    Splits: the UCR ones, train 500 and test 4,500. Features: `series` float32 [140, 1]
    and `label` int64 [] = UCR class - 1 (0 = normal beat, UCR class 1).

    Sources, in order of preference, in the manual folder:
      train: ECG5000_TRAIN.arff / .txt / .tsv, else rows 1-500 of ecg5000_5sig.csv;
      test: ECG5000_TEST.arff / .txt / .tsv, else rows 501-5000 of ecg5000_5sig.csv.
    Precision caveat: ecg5000_5sig.csv comes from the R package fda.tsc, which rounds
    values to about 5 significant digits (largest difference from the exact train
    split: 5e-5; labels agree). A test split read from it is not bit-identical to UCR's;
    `metadata['test_source']` records which file the test split came from, and
    preparation logs a warning. To switch to an exact test file later, delete the
    prepared `aelab_ecg5000` folder so that it is prepared again.
    """

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES: ClassVar[dict[str, str]] = {
        "1.0.0": "First version, from UCR .arff/.txt files or ecg5000_5sig.csv."
    }
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        _DATA_DIR_HINT.format(folder="ecg5000") + ", with ECG5000_TRAIN.arff and "
        "ECG5000_TEST.arff (or the UCR .txt files), or ecg5000_5sig.csv (5,000 rows: 140 "
        "values then the class, train rows first). Download the UCR files from "
        "https://www.timeseriesclassification.com/description.php?Dataset=ECG5000."
    )
    CSV_NAME = "ecg5000_5sig.csv"

    def _info(self) -> tfds.core.DatasetInfo:
        return tfds.core.DatasetInfo(
            builder=self,
            description=self.__doc__,
            features=tfds.features.FeaturesDict(
                {
                    "series": array_feature((ECG_LENGTH, 1), np.float32),
                    "label": tfds.features.Tensor(shape=(), dtype=np.int64),
                }
            ),
            homepage="https://www.timeseriesclassification.com/description.php?Dataset=ECG5000",
            metadata=tfds.core.MetadataDict(
                value_max=None, num_classes=ECG_NUM_CLASSES, test_source=None
            ),
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager) -> dict[str, Any]:
        folder = _manual_folder(dl_manager)
        sources = {}
        for split, stem, rows in (
            ("train", "ECG5000_TRAIN", slice(0, ECG_TRAIN_SIZE)),
            ("test", "ECG5000_TEST", slice(ECG_TRAIN_SIZE, ECG_TOTAL_SIZE)),
        ):
            names = [f"{stem}{suffix}" for suffix in (".arff", ".txt", ".tsv")]
            path = _find_file(folder, [*names, self.CSV_NAME], self.MANUAL_DOWNLOAD_INSTRUCTIONS)
            sources[split] = (path, rows if path.name == self.CSV_NAME else slice(None))
        test_path = sources["test"][0]
        self.info.metadata["test_source"] = test_path.name
        if test_path.name == self.CSV_NAME:
            logger.warning(
                "ECG5000: no ECG5000_TEST file in %s; the test split comes from %s, whose "
                "values are rounded to about 5 significant digits (differences up to ~5e-5).",
                folder,
                self.CSV_NAME,
            )
        return {
            split: self._generate_examples(path, rows) for split, (path, rows) in sources.items()
        }

    def _generate_examples(
        self, path: Path, rows: slice
    ) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
        series, classes = readers.read_ucr(path)
        if path.name == self.CSV_NAME and len(series) != ECG_TOTAL_SIZE:
            raise DataError(
                f"{path} holds {len(series)} rows; expected {ECG_TOTAL_SIZE} (500 train "
                "then 4,500 test)."
            )
        series, classes = series[rows], classes[rows]
        if series.shape[1] != ECG_LENGTH:
            raise DataError(
                f"{path} holds series of length {series.shape[1]}; ECG5000 has {ECG_LENGTH}."
            )
        if classes.min() < 1 or classes.max() > ECG_NUM_CLASSES:
            raise DataError(
                f"{path} holds classes {classes.min()}..{classes.max()}; ECG5000 has 1..5."
            )
        for index in range(len(series)):
            yield index, {"series": series[index, :, None], "label": classes[index] - 1}
