"""aelab's own TFDS builders: raw local files -> array_record records, with no TensorFlow.

Each builder reads the files a user put in a folder (`dl_manager.manual_dir`; nothing
is downloaded), parses them with `aelab.data.readers`, and writes `array_record` files
that `builder.as_data_source()` reads back by index. Only `tfds.features.Tensor`
features are used: `tfds.features.Image` encodes PNGs through TensorFlow.

Builder names carry an `aelab_` prefix so they never clash with TFDS's own `mnist`,
`fashion_mnist` or `binarized_mnist`, which need TensorFlow (or a download) to prepare.

Facts about the written data that readers must not forget:
  * TFDS shuffles records on write (by a hash of each example's key), so record `i`
    is not line `i` of the source file. The order is the same on every preparation.
  * `builder.info.metadata` holds `value_max` (the largest raw input value) and
    `num_classes` (None without labels), so a reader of the prepared folder alone
    (`tfds.builder_from_directory`, `tfds:` in `aelab.data.sources`) can recover them.

Example (prepare MNIST once, then read it by index):
  builder = prepare(AelabMnist, tfds_dir="/tmp/tfds", manual_dir="/data/mnist")
  train = builder.as_data_source("train")  # train[i] -> {'image': ..., 'label': ...}
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import logging
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import tensorflow_datasets as tfds

from aelab.data import readers
from aelab.data.errors import DataError

logger = logging.getLogger(__name__)

IMAGE_SHAPE = (28, 28, 1)
ECG_LENGTH = 140
ECG_TRAIN_SIZE = 500
ECG_TOTAL_SIZE = 5000
ECG_NUM_CLASSES = 5
_DATA_DIR_HINT = (
    "Set AELAB_DATA_DIR (or config.data.data_dir) to the folder that holds the {folder}/ folder"
)


def array_feature(shape: tuple[int, ...], dtype: np.dtype | type) -> tfds.features.Tensor:
    """A fixed-shape array feature, stored as its raw bytes.

    With TFDS's default encoding, float arrays go into a tf.Example float list, which is
    float32: float64 inputs would silently lose precision. Raw bytes are exact, and
    also prepare ~1.6x faster and take less disk for MNIST.
    """
    return tfds.features.Tensor(shape=shape, dtype=dtype, encoding=tfds.features.Encoding.BYTES)


def image_features(labelled: bool) -> tfds.features.FeaturesDict:
    """Features of a 28x28 grey-scale image set: `image` uint8 [28, 28, 1], `label` int64 []."""
    features = {"image": array_feature(IMAGE_SHAPE, np.uint8)}
    if labelled:
        features["label"] = tfds.features.Tensor(shape=(), dtype=np.int64)
    return tfds.features.FeaturesDict(features)


def _manual_folder(dl_manager: tfds.download.DownloadManager) -> Path:
    """`dl_manager.manual_dir`; TFDS's AssertionError for a missing/empty one as DataError."""
    try:
        return Path(dl_manager.manual_dir)
    except AssertionError as e:  # Its message names the folder and gives the instructions.
        raise DataError(str(e)) from None


def _find_file(folder: Path, names: Sequence[str], instructions: str) -> Path:
    """Returns the first of `folder/name` that exists, or raises DataError listing them."""
    for name in names:
        if (folder / name).is_file():
            return folder / name
    raise DataError(
        f"Missing data file: none of {', '.join(names)} is in {folder}.\n{instructions}"
    )


class _IdxImageBuilder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """MNIST-format images and labels from the four (gzipped) IDX files."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES: ClassVar[dict[str, str]] = {
        "1.0.0": "First version, from the original IDX files."
    }
    HOMEPAGE = ""
    _FILES: ClassVar[dict[str, tuple[str, str]]] = {
        "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    }

    def _info(self) -> tfds.core.DatasetInfo:
        return tfds.core.DatasetInfo(
            builder=self,
            description=self.__doc__,
            features=image_features(labelled=True),
            homepage=self.HOMEPAGE,
            metadata=tfds.core.MetadataDict(value_max=255, num_classes=10),
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager) -> dict[str, Any]:
        instructions = self.MANUAL_DOWNLOAD_INSTRUCTIONS
        folder = _manual_folder(dl_manager)
        generators = {}
        for split, (images, labels) in self._FILES.items():
            images_path = _find_file(folder, [f"{images}.gz", images], instructions)
            labels_path = _find_file(folder, [f"{labels}.gz", labels], instructions)
            generators[split] = self._generate_examples(images_path, labels_path)
        return generators

    def _generate_examples(
        self, images_path: Path, labels_path: Path
    ) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
        images = readers.read_idx(images_path)
        labels = readers.read_idx(labels_path)
        if images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE[:2]:
            raise DataError(f"{images_path} holds {images.shape} data; expected [N, 28, 28].")
        if labels.ndim != 1 or len(labels) != len(images):
            raise DataError(
                f"{labels_path} holds {labels.shape} labels; expected one per image of "
                f"{images_path} ({len(images)})."
            )
        if labels.max(initial=0) >= 10:
            raise DataError(f"{labels_path} holds labels above 9; expected classes 0..9.")
        for index in range(len(images)):
            yield index, {"image": images[index, :, :, None], "label": np.int64(labels[index])}


class AelabMnist(_IdxImageBuilder):
    """MNIST handwritten digits: 60,000 train and 10,000 test 28x28 uint8 images, labels 0-9."""

    HOMEPAGE = "http://yann.lecun.com/exdb/mnist/"
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        _DATA_DIR_HINT.format(folder="mnist") + ", with train-images-idx3-ubyte.gz, "
        "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz "
        "(gzipped or not). Download them from https://storage.googleapis.com/cvdf-datasets/mnist/."
    )


class AelabFashionMnist(_IdxImageBuilder):
    """Fashion-MNIST (Zalando): 60,000 train and 10,000 test 28x28 uint8 images, 10 classes."""

    HOMEPAGE = "https://github.com/zalandoresearch/fashion-mnist"
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        _DATA_DIR_HINT.format(folder="fashion_mnist") + ", with train-images-idx3-ubyte.gz, "
        "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz "
        "(gzipped or not). Download them from "
        "https://github.com/zalandoresearch/fashion-mnist (folder data/fashion)."
    )


class AelabBinarizedMnist(tfds.core.GeneratorBasedBuilder):
    """The fixed binarization of MNIST (Salakhutdinov & Murray 2008; Larochelle & Murray 2011).

    Splits: train 50,000, validation 10,000, test 10,000. Features: `image` uint8
    [28, 28, 1] with values in {0, 1}. The data set has no labels, so records have no
    `label` feature and `metadata['num_classes']` is None.
    """

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES: ClassVar[dict[str, str]] = {
        "1.0.0": "First version, from Larochelle's .amat files."
    }
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        _DATA_DIR_HINT.format(folder="binarized_mnist") + ", with "
        "binarized_mnist_train.amat, binarized_mnist_valid.amat and binarized_mnist_test.amat "
        "(or the same names with .gz). Download them from "
        "http://www.cs.toronto.edu/~larocheh/public/datasets/binarized_mnist/."
    )
    _FILES: ClassVar[dict[str, str]] = {
        "train": "binarized_mnist_train.amat",
        "validation": "binarized_mnist_valid.amat",
        "test": "binarized_mnist_test.amat",
    }

    def _info(self) -> tfds.core.DatasetInfo:
        return tfds.core.DatasetInfo(
            builder=self,
            description=self.__doc__,
            features=image_features(labelled=False),
            homepage="http://www.cs.toronto.edu/~larocheh/public/datasets/binarized_mnist/",
            metadata=tfds.core.MetadataDict(value_max=1, num_classes=None),
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager) -> dict[str, Any]:
        instructions = self.MANUAL_DOWNLOAD_INSTRUCTIONS
        folder = _manual_folder(dl_manager)
        return {
            split: self._generate_examples(_find_file(folder, [f"{name}.gz", name], instructions))
            for split, name in self._FILES.items()
        }

    def _generate_examples(self, path: Path) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
        images = readers.read_amat(path).reshape(-1, *IMAGE_SHAPE)
        for index in range(len(images)):
            yield index, {"image": images[index]}


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


@dataclasses.dataclass(eq=False)
class NpzConfig(tfds.core.BuilderConfig):
    """Describes one user `.npz` file; build it with `npz_config(path)`.

    Attributes:
      path: the file.
      input_key: the feature name of the inputs ("image", "series", "inputs", ...).
      input_shape: per-example shape of the inputs, as stored.
      input_dtype: NumPy dtype name of the inputs (bool is stored as uint8).
      splits: the splits the file holds, e.g. ("train", "test").
      labelled: whether every split has `<split>_labels`.
    """

    path: str = ""
    input_key: str = "image"
    input_shape: tuple[int, ...] = ()
    input_dtype: str = "float32"
    splits: tuple[str, ...] = ()
    labelled: bool = False


NPZ_SPLITS = ("train", "validation", "test")
_REQUIRED_NPZ_SPLITS = ("train", "test")


def npz_config(path: str | os.PathLike, input_key: str = "image") -> NpzConfig:
    """Validates a user `.npz` file and returns the config that names its prepared data.

    The file holds one array per split, `train` and `test` (required) and `validation`
    (optional), each `[N, ...]` with the same per-example shape and dtype, and optionally
    integer class labels `<split>_labels` `[N]` (for every split or for none). The
    config name is the file's stem plus a hash of its bytes and `input_key`, so an
    edited file is prepared again and an unchanged one (even moved) is not.

    Raises:
      DataError: missing or corrupt file, unexpected keys, or inconsistent arrays.
    """
    path = Path(path).expanduser().resolve()
    headers = readers.read_npz_headers(path)
    allowed = set(NPZ_SPLITS) | {f"{split}_labels" for split in NPZ_SPLITS}
    unexpected = sorted(set(headers) - allowed)
    missing = [split for split in _REQUIRED_NPZ_SPLITS if split not in headers]
    if unexpected or missing:
        raise DataError(
            f".npz file {path} holds arrays {sorted(headers)}; expected 'train' and 'test', "
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
                f".npz file {path}: '{split}' is {split_dtype} {split_shape} but 'train' is "
                f"{dtype} {shape}; every split needs the same per-example shape and dtype."
            )
    if dtype.kind not in "buif":
        raise DataError(f".npz file {path}: inputs have dtype {dtype}; expected numbers.")
    labelled_splits = [split for split in splits if f"{split}_labels" in headers]
    if labelled_splits and len(labelled_splits) != len(splits):
        raise DataError(
            f".npz file {path}: only {labelled_splits} have '<split>_labels'; give labels "
            f"for every split {list(splits)} or for none."
        )
    for split in labelled_splits:
        label_shape, label_dtype = headers[f"{split}_labels"]
        if label_shape != headers[split][0][:1] or label_dtype.kind not in "iu":
            raise DataError(
                f".npz file {path}: '{split}_labels' is {label_dtype} {label_shape}; expected "
                f"integers of shape ({headers[split][0][0]},)."
            )
    digest = hashlib.sha256(input_key.encode())
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    stem = re.sub(r"[^a-zA-Z0-9_]+", "_", path.name.removesuffix(".npz")).strip("_") or "data"
    return NpzConfig(
        name=f"{stem}_{digest.hexdigest()[:16]}",
        description=f"Arrays from {path}.",
        path=os.fspath(path),
        input_key=input_key,
        input_shape=tuple(shape[1:]),
        input_dtype="uint8" if dtype == np.bool_ else dtype.name,
        splits=splits,
        labelled=bool(labelled_splits),
    )


class AelabNpz(tfds.core.GeneratorBasedBuilder):
    """Any `.npz` file of one array per split; see `npz_config` for the layout.

    Features: `<config.input_key>` (per-example shape and dtype as stored; bool becomes
    uint8) and, when the file has labels, `label` int64. `metadata['value_max']` is the
    largest input value for integer or bool inputs and None for floats (taken as already
    scaled); `metadata['num_classes']` is the largest label + 1, or None.
    """

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES: ClassVar[dict[str, str]] = {"1.0.0": "First version."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = "Give the .npz file's path in the builder config."

    def _info(self) -> tfds.core.DatasetInfo:
        config = self.builder_config
        if config is None:
            raise DataError("AelabNpz needs a config: AelabNpz(config=npz_config(path), ...).")
        features = {
            config.input_key: array_feature(config.input_shape, np.dtype(config.input_dtype))
        }
        if config.labelled:
            features["label"] = tfds.features.Tensor(shape=(), dtype=np.int64)
        return tfds.core.DatasetInfo(
            builder=self,
            description=self.__doc__,
            features=tfds.features.FeaturesDict(features),
            metadata=tfds.core.MetadataDict(value_max=None, num_classes=None),
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager) -> dict[str, Any]:
        del dl_manager  # The config names the one file.
        config = self.builder_config
        arrays = readers.read_npz(config.path)
        inputs = {split: arrays[split] for split in config.splits}
        if np.dtype(config.input_dtype).kind in "iu":
            self.info.metadata["value_max"] = float(
                max(array.max(initial=0) for array in inputs.values())
            )
        if config.labelled:
            labels = {split: arrays[f"{split}_labels"].astype(np.int64) for split in config.splits}
            lowest = min(split_labels.min(initial=0) for split_labels in labels.values())
            if lowest < 0:
                raise DataError(f".npz file {config.path} holds negative labels.")
            highest = max(split_labels.max(initial=0) for split_labels in labels.values())
            self.info.metadata["num_classes"] = int(highest) + 1
        else:
            labels = dict.fromkeys(config.splits)
        return {
            split: self._generate_examples(inputs[split], labels[split]) for split in config.splits
        }

    def _generate_examples(
        self, inputs: np.ndarray, labels: np.ndarray | None
    ) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
        key = self.builder_config.input_key
        inputs = inputs.astype(self.builder_config.input_dtype, copy=False)
        for index in range(len(inputs)):
            example = {key: inputs[index]}
            if labels is not None:
                example["label"] = labels[index]
            yield index, example


@contextlib.contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    """Holds an exclusive `flock` on `path` (created if needed) for the `with` block.

    flock is released by the kernel if the process dies, so a crashed worker never
    leaves a stale lock behind. It is reliable on local disks; on NFS it depends on
    the mount.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def prepare(
    builder_cls: type[tfds.core.GeneratorBasedBuilder],
    *,
    tfds_dir: str | os.PathLike,
    manual_dir: str | os.PathLike | None = None,
    config: tfds.core.BuilderConfig | None = None,
) -> tfds.core.DatasetBuilder:
    """Prepares `builder_cls` in `tfds_dir` unless already prepared; returns a reader for it.

    Safe when several processes call it at once (a sweep's workers starting together):
    preparation runs under a file lock, and whoever gets the lock second finds the data
    prepared and only reads it.

    Args:
      builder_cls: one of this module's builders.
      tfds_dir: TFDS data dir to write into, e.g. `~/.cache/aelab/tensorflow_datasets`.
      manual_dir: folder with the raw files (unused by `AelabNpz`, whose config names
        its file).
      config: builder config (`npz_config(...)` for `AelabNpz`).

    Returns:
      A builder whose `as_data_source(split)` reads the prepared records.
    """
    tfds_dir = Path(tfds_dir).expanduser()

    def open_builder() -> tfds.core.DatasetBuilder:
        return builder_cls(data_dir=tfds_dir, config=config, file_format="array_record")

    builder = open_builder()
    if builder.is_prepared():
        return builder
    lock_name = builder.name + (f"-{config.name}" if config is not None else "")
    with _exclusive_lock(tfds_dir / ".locks" / f"{lock_name}.lock"):
        # A builder reads dataset_info.json when it is created: make a fresh one, since
        # another process may have prepared the data while this one waited for the lock.
        builder = open_builder()
        if not builder.is_prepared():
            download_config = tfds.download.DownloadConfig(
                manual_dir=os.fspath(manual_dir) if manual_dir is not None else None,
                try_download_gcs=False,  # Never look for a prepared copy online.
            )
            builder.download_and_prepare(download_config=download_config)
            builder = open_builder()
    return builder
