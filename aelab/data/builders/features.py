"""What every aelab builder shares: raw-bytes array features and finding the user's files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import tensorflow_datasets as tfds

from aelab.data.errors import DataError

IMAGE_SHAPE = (28, 28, 1)
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
