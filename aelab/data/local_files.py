"""The data sets aelab prepares from raw local files: MNIST, Fashion-MNIST, binarized
MNIST and ECG5000 (`aelab.data.builders` reads them; records come back by index)."""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
from pathlib import Path

import ml_collections
import tensorflow_datasets as tfds

from aelab.data import builders
from aelab.data.errors import DataError
from aelab.data.records import DatasetInfo, RecordSource, read_split
from aelab.data.sources import DATASETS, data_root, source_options, tfds_dir

logger = logging.getLogger(__name__)


def _open_prepared(
    builder_cls: type[tfds.core.DatasetBuilder], data_config: ml_collections.ConfigDict
) -> tfds.core.DatasetBuilder | None:
    """The builder if its data is prepared in the TFDS dir, else None."""
    builder = builder_cls(data_dir=tfds_dir(data_config), file_format="array_record")
    # TFDS logs a warning when asked about a folder that does not exist yet.
    return builder if builder.data_path.exists() and builder.is_prepared() else None


@dataclasses.dataclass(frozen=True)
class _LocalFilesDataset:
    """A data set prepared from raw files in `<data dir>/<folder>/` by an aelab builder."""

    static_info: DatasetInfo  # The standard files' info; split sizes follow the files used.
    builder_cls: type[tfds.core.GeneratorBasedBuilder]  # One of `aelab.data.builders`.

    def _with_sizes(self, builder: tfds.core.DatasetBuilder) -> DatasetInfo:
        sizes = {split: info.num_examples for split, info in builder.info.splits.items()}
        return dataclasses.replace(self.static_info, splits=sizes)

    def info(self, data_config: ml_collections.ConfigDict) -> DatasetInfo:
        builder = _open_prepared(self.builder_cls, data_config)
        return self.static_info if builder is None else self._with_sizes(builder)

    def _folder(self, data_config: ml_collections.ConfigDict, instructions: str) -> Path:
        root = data_root(data_config)
        folder = self.static_info.name
        if root is None:
            raise DataError(
                f"Data set {folder!r} is not prepared in {tfds_dir(data_config)} and no data "
                f"folder is set: set AELAB_DATA_DIR (or config.data.data_dir) to the folder "
                f"holding {folder}/.\n{instructions}"
            )
        if not (root / folder).is_dir():
            raise DataError(
                f"Data folder {root / folder} does not exist. Set AELAB_DATA_DIR (or "
                f"config.data.data_dir) to the folder holding {folder}/ (now {root}).\n"
                f"{instructions}"
            )
        return root / folder

    def load(
        self, data_config: ml_collections.ConfigDict, split: str
    ) -> tuple[RecordSource, DatasetInfo]:
        builder_cls = self.builder_cls
        builder = _open_prepared(builder_cls, data_config)
        if builder is None:
            folder = self._folder(data_config, builder_cls.MANUAL_DOWNLOAD_INSTRUCTIONS)
            builder = builders.prepare(
                builder_cls, tfds_dir=tfds_dir(data_config), manual_dir=folder
            )
        metadata = builder.info.metadata or {}
        # Only ECG5000 writes `test_source`: its test split may come from a rounded CSV.
        if metadata.get("test_source") == builders.AelabEcg5000.CSV_NAME and (
            "test" in split or "all" in split
        ):
            _warn_rounded_ecg_test(os.fspath(builder.data_dir))
        source = read_split(
            builder,
            name=self.static_info.name,
            split=split,
            in_memory=source_options(data_config).in_memory,
        )
        return source, self._with_sizes(builder)


@functools.cache
def _warn_rounded_ecg_test(path: str) -> None:
    """Logs, once a process, that ECG5000's test split came from the 5-digit CSV."""
    logger.warning(
        "ECG5000 in %s: the test split was read from ecg5000_5sig.csv, rounded to about 5 "
        "significant digits (up to ~5e-5 off the UCR values). Put ECG5000_TEST.arff in the "
        "data folder and delete this prepared folder for the exact values.",
        path,
    )


_IMAGE_SPLITS = {"train": 60_000, "test": 10_000}
DATASETS.register("mnist")(
    _LocalFilesDataset(
        DatasetInfo("mnist", "image", (28, 28, 1), 255.0, 10, _IMAGE_SPLITS), builders.AelabMnist
    )
)
DATASETS.register("fashion_mnist")(
    _LocalFilesDataset(
        DatasetInfo("fashion_mnist", "image", (28, 28, 1), 255.0, 10, _IMAGE_SPLITS),
        builders.AelabFashionMnist,
    )
)
DATASETS.register("binarized_mnist")(
    _LocalFilesDataset(
        DatasetInfo(
            "binarized_mnist",
            "image",
            (28, 28, 1),
            1.0,
            None,
            {"train": 50_000, "validation": 10_000, "test": 10_000},
        ),
        builders.AelabBinarizedMnist,
    )
)
DATASETS.register("ecg5000")(
    _LocalFilesDataset(
        DatasetInfo("ecg5000", "series", (140, 1), None, 5, {"train": 500, "test": 4_500}),
        builders.AelabEcg5000,
    )
)
