"""The IDX image builders: MNIST and Fashion-MNIST from their four (gzipped) IDX files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import tensorflow_datasets as tfds

from aelab.data import readers
from aelab.data.builders.features import (
    _DATA_DIR_HINT,
    IMAGE_SHAPE,
    _find_file,
    _manual_folder,
    image_features,
)
from aelab.data.errors import DataError


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
