"""The real files in $AELAB_DATA_DIR (the layout of shared/data), prepared once per session.

Skipped when AELAB_DATA_DIR is not set. Records are shuffled on write, so checks against
the raw files are order-independent (sums, sorted rows, class counts).
"""

from __future__ import annotations

import os
from pathlib import Path

import ml_collections
import numpy as np
import pytest

from aelab.data import load_split, readers

pytestmark = pytest.mark.skipif(
    not os.environ.get("AELAB_DATA_DIR"),
    reason="AELAB_DATA_DIR is not set: no real data files to test against.",
)


@pytest.fixture(scope="session")
def real_tfds_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One TFDS dir for the whole session, so that each real data set is prepared once."""
    return tmp_path_factory.mktemp("real_tfds")


@pytest.fixture
def real_config(real_tfds_dir: Path):
    def make(name: str, in_memory: bool = True) -> ml_collections.ConfigDict:
        return ml_collections.ConfigDict(
            {
                "name": name,
                "data_dir": None,  # $AELAB_DATA_DIR
                "tfds_data_dir": str(real_tfds_dir),
                "in_memory": in_memory,
            }
        )

    return make


def _raw(*parts: str) -> Path:
    return Path(os.environ["AELAB_DATA_DIR"], *parts)


# The shared IDX files (about 10 s each) in the slow tier; tests/data reads IDX files
# that the tests write in the README tier.
@pytest.mark.slow
@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_idx_image_sets(real_config, name: str):
    train, info = load_split(real_config(name), "train")
    test, _ = load_split(real_config(name, in_memory=False), "test")
    batch = train.get_batch(np.arange(len(train)))

    assert info.splits == {"train": 60_000, "test": 10_000}
    assert (len(train), len(test)) == (60_000, 10_000)
    assert batch["image"].shape == (60_000, 28, 28, 1) and batch["image"].dtype == np.uint8
    assert batch["label"].dtype == np.int64
    raw_labels = readers.read_idx(_raw(name, "train-labels-idx1-ubyte.gz"))
    np.testing.assert_array_equal(np.bincount(batch["label"]), np.bincount(raw_labels))
    raw_images = readers.read_idx(_raw(name, "train-images-idx3-ubyte.gz"))
    assert batch["image"].sum(dtype=np.int64) == raw_images.sum(dtype=np.int64)
    assert test[0]["image"].shape == (28, 28, 1)


# Reads the shared binarized MNIST files (5 s): slow tier.
@pytest.mark.slow
def test_binarized_mnist(real_config):
    train, info = load_split(real_config("binarized_mnist"), "train")
    validation, _ = load_split(real_config("binarized_mnist", in_memory=False), "validation")
    test, _ = load_split(real_config("binarized_mnist", in_memory=False), "test")
    images = train.get_batch(np.arange(len(train)))["image"]

    assert info.splits == {"train": 50_000, "validation": 10_000, "test": 10_000}
    assert (len(train), len(validation), len(test)) == (50_000, 10_000, 10_000)
    assert info.value_max == 1.0 and info.num_classes is None
    assert set(np.unique(images)) == {0, 1}
    raw = readers.read_amat(_raw("binarized_mnist", "binarized_mnist_train.amat.gz"))
    np.testing.assert_array_equal(images.reshape(50_000, 784).sum(0), raw.sum(0))


def test_ecg5000(real_config):
    train, info = load_split(real_config("ecg5000"), "train")
    test, _ = load_split(real_config("ecg5000"), "test")
    train_batch = train.get_batch(np.arange(500))
    test_labels = test.get_batch(np.arange(4500))["label"]

    assert info.splits == {"train": 500, "test": 4500} and info.num_classes == 5
    assert train_batch["series"].shape == (500, 140, 1)
    assert train_batch["series"].dtype == np.float32
    counts = np.bincount(np.concatenate([train_batch["label"], test_labels]), minlength=5)
    np.testing.assert_array_equal(counts, [2919, 1767, 96, 194, 24])  # The README's counts.
    series, classes = readers.read_ucr(_raw("ecg5000", "ECG5000_TRAIN.arff"))
    rows = np.concatenate([train_batch["series"][..., 0], train_batch["label"][:, None]], 1)
    raw_rows = np.concatenate([series, classes[:, None] - 1], 1)
    np.testing.assert_array_equal(
        rows[np.lexsort(rows.T[::-1])], raw_rows[np.lexsort(raw_rows.T[::-1])]
    )
