"""The grain pipeline: seeded shuffling, epochs, transforms, process slices, resume."""

import grain
import numpy as np
import pytest

from aelab.core.errors import ConfigError
from aelab.data.pipeline import ProcessSlice, eval_batches, train_dataset
from aelab.data.records import ArraySource
from aelab.data.transforms import BatchTransform, TransformOptions


def _source(n=50):
    images = np.arange(n * 4, dtype=np.uint8).reshape(n, 2, 2, 1)
    return ArraySource({"image": images, "label": np.arange(n) % 5}, name="toy", split="train")


def _ids(batch):
    # Each toy record's first pixel is 4 * its index.
    return (batch["inputs"][:, 0, 0, 0] * 255 / 4).round().astype(int)


TRANSFORM = BatchTransform(input_key="image", value_max=255.0)


def _take(dataset, count):
    iterator = iter(dataset)
    return [next(iterator) for _ in range(count)]


def test_epochs_are_permutations_reshuffled_each_epoch():
    batches = _take(train_dataset(_source(), TRANSFORM, ProcessSlice(10), seed=0), 10)
    ids = np.concatenate([_ids(b) for b in batches])
    first, second = ids[:50], ids[50:]
    assert sorted(first) == list(range(50)) and sorted(second) == list(range(50))
    assert not np.array_equal(first, second)


def test_same_seed_same_order_other_seed_other_order():
    a = np.concatenate(
        [_ids(b) for b in _take(train_dataset(_source(), TRANSFORM, ProcessSlice(10), seed=1), 3)]
    )
    b = np.concatenate(
        [_ids(b) for b in _take(train_dataset(_source(), TRANSFORM, ProcessSlice(10), seed=1), 3)]
    )
    c = np.concatenate(
        [_ids(b) for b in _take(train_dataset(_source(), TRANSFORM, ProcessSlice(10), seed=2), 3)]
    )
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_batches_straddle_epochs_without_dropping_examples():
    batches = _take(
        train_dataset(_source(), TRANSFORM, ProcessSlice(16), seed=0), 25
    )  # 400 = 8 epochs
    ids = np.concatenate([_ids(b) for b in batches])
    assert np.bincount(ids, minlength=50).tolist() == [8] * 50


def test_process_slices_reassemble_the_global_batch():
    binarize = BatchTransform(input_key="image", value_max=255.0, binarize="dynamic")
    whole = _take(train_dataset(_source(), binarize, ProcessSlice(12), seed=3), 4)
    parts = [
        _take(train_dataset(_source(), binarize, ProcessSlice(12, p, 3), seed=3), 4)
        for p in range(3)
    ]
    for step in range(4):
        joined = np.concatenate([parts[p][step]["inputs"] for p in range(3)])
        np.testing.assert_array_equal(joined, whole[step]["inputs"])


def test_dynamic_binarization_is_seeded_and_fresh_each_epoch():
    source = ArraySource(
        {"image": np.full((8, 4, 4, 1), 128, np.uint8), "label": np.zeros(8, np.int64)},
        name="grey",
        split="train",
    )
    binarize = BatchTransform(input_key="image", value_max=255.0, binarize="dynamic")
    batches = _take(train_dataset(source, binarize, ProcessSlice(8), seed=0), 2)
    again = _take(train_dataset(source, binarize, ProcessSlice(8), seed=0), 2)
    for a, b in zip(batches, again, strict=True):
        np.testing.assert_array_equal(a["inputs"], b["inputs"])
    values = np.unique(batches[0]["inputs"])
    assert set(values.tolist()) == {0.0, 1.0}
    assert 0.3 < batches[0]["inputs"].mean() < 0.7
    assert not np.array_equal(batches[0]["inputs"], batches[1]["inputs"])


def test_label_filter_keeps_only_those_labels():
    batches = _take(train_dataset(_source(), TRANSFORM, ProcessSlice(10), seed=0, labels=(0, 3)), 5)
    labels = np.concatenate([b["label"] for b in batches])
    assert set(labels.tolist()) == {0, 3}


def test_flatten():
    flat = BatchTransform(input_key="image", value_max=255.0, flatten=True)
    batch = _take(train_dataset(_source(), flat, ProcessSlice(10), seed=0), 1)[0]
    assert batch["inputs"].shape == (10, 4)
    assert flat.example_shape((2, 2, 1)) == (4,)


def test_iterator_state_restores_the_next_batch(tmp_path):
    dataset = train_dataset(_source(), TRANSFORM, ProcessSlice(10), seed=0)
    iterator = iter(dataset)
    for _ in range(7):
        next(iterator)
    state = iterator.get_state()
    expected = [next(iterator) for _ in range(3)]
    restored = iter(train_dataset(_source(), TRANSFORM, ProcessSlice(10), seed=0))
    restored.set_state(state)
    for a, b in zip(expected, [next(restored) for _ in range(3)], strict=True):
        np.testing.assert_array_equal(a["inputs"], b["inputs"])


def test_eval_batches_cover_the_split_once_with_a_mask():
    batches = list(eval_batches(_source(), TRANSFORM, ProcessSlice(16), seed=0))
    assert len(batches) == 4
    masks = np.concatenate([b["mask"] for b in batches])
    assert masks.sum() == 50 and masks[:50].all() and not masks[50:].any()
    ids = np.concatenate([_ids(b) for b in batches])[:50]
    assert ids.tolist() == list(range(50))


def test_global_batch_must_divide_among_processes():
    with pytest.raises(ValueError, match="does not divide among 3 processes"):
        ProcessSlice(10, 0, 3)


def test_binarize_mode_is_checked():
    with pytest.raises(ConfigError, match=r"config\.data\.binarize='sometimes' is not valid"):
        TransformOptions.from_section({"binarize": "sometimes"}, path="data")


def test_grain_is_the_iterator():
    dataset = train_dataset(_source(), TRANSFORM, ProcessSlice(10), seed=0)
    assert isinstance(dataset, grain.IterDataset)
