"""scikit-learn's bundled 8x8 digits: the data set that needs no files."""

from __future__ import annotations

import functools

import ml_collections
import numpy as np
from sklearn.datasets import load_digits

from aelab.data.records import ArraySource, DatasetInfo, RecordSource
from aelab.data.sources import DATASETS
from aelab.data.splits import select_split


@functools.cache
def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits: uint8 images [1797, 8, 8, 1] in 0..16, int64 labels [1797]."""
    digits = load_digits()
    images = digits.images.astype(np.uint8)[..., None]
    return images, digits.target.astype(np.int64)


DIGITS_TEST_SIZE = 360


class _DigitsDataset:
    """scikit-learn's bundled 8x8 digits (1,797 images, 0..16, labels 0..9); offline.

    A fixed permutation (`np.random.default_rng(0)`) puts the first 360 images in `test`
    and the other 1,437 in `train`. Split specs also accept `validation`, which is
    `train[90%:]` (the last 144 train images; train on `train[:90%]` when you use it),
    `all` (`train+test`, 1,797), slices like `train[:100]` and sums like `train+test`.
    Always in memory, whatever `config.in_memory` says.
    """

    def _splits(self) -> dict[str, np.ndarray]:
        order = np.random.default_rng(0).permutation(len(_digits_arrays()[0]))
        test, train = order[:DIGITS_TEST_SIZE], order[DIGITS_TEST_SIZE:]
        validation_start = round(0.9 * len(train))
        return {
            "train": train,
            "test": test,
            "validation": train[validation_start:],
            "all": np.concatenate([train, test]),
        }

    def info(self, data_config: ml_collections.ConfigDict) -> DatasetInfo:
        del data_config  # Fixed data.
        num_examples = 1_797
        return DatasetInfo(
            name="digits",
            input_key="image",
            input_shape=(8, 8, 1),
            value_max=16.0,
            num_classes=10,
            splits={"train": num_examples - DIGITS_TEST_SIZE, "test": DIGITS_TEST_SIZE},
        )

    def load(
        self, data_config: ml_collections.ConfigDict, split: str
    ) -> tuple[RecordSource, DatasetInfo]:
        indices = select_split(split, self._splits())
        images, labels = _digits_arrays()
        source = ArraySource(
            {"image": images[indices], "label": labels[indices]},
            name="digits",
            split=split,
            path="sklearn.datasets.load_digits",
        )
        return source, self.info(data_config)


DATASETS.register("digits")(_DigitsDataset())
