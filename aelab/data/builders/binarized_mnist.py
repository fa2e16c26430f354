"""The fixed binarization of MNIST, from Larochelle's three `.amat` files (no labels)."""

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
