"""Corruption in the input pipeline, for denoising autoencoders: noisy "inputs", clean
"targets", the same batches for any number of processes and on every evaluation."""

import types

import ml_collections
import numpy as np
import pytest

from aelab.data.corruptions import Corruption
from aelab.data.pipeline import ProcessSlice, eval_batches, train_dataset
from aelab.data.records import ArraySource
from aelab.data.transforms import BatchTransform, batch_transform_from_config


def _images(n=64):
    rng = np.random.default_rng(0)
    images = rng.integers(1, 255, (n, 6, 6, 1)).astype(np.uint8)  # no exact 0 or 255
    return ArraySource({"image": images, "label": np.arange(n) % 3}, name="toy", split="train")


def _transform(name, **options):
    flatten = options.pop("flatten", False)
    corruption = Corruption.from_section({"name": name, **options})
    return BatchTransform(
        input_key="image", value_max=255.0, corruption=corruption, flatten=flatten
    )


def _first_batch(transform, batch_size=64, slice_=None):
    dataset = train_dataset(_images(), transform, slice_ or ProcessSlice(batch_size), seed=3)
    return next(iter(dataset))


def test_targets_are_the_clean_data():
    clean = _first_batch(BatchTransform(input_key="image", value_max=255.0))
    noisy = _first_batch(_transform("gaussian_noise", std=0.3, clip=False))
    np.testing.assert_array_equal(noisy["targets"], clean["inputs"])
    assert "targets" not in clean


def test_gaussian_noise_has_the_given_std():
    batch = _first_batch(_transform("gaussian_noise", std=0.3, clip=False))
    noise = batch["inputs"] - batch["targets"]
    assert abs(noise.mean()) < 0.03 and noise.std() == pytest.approx(0.3, rel=0.05)
    clipped = _first_batch(_transform("gaussian_noise", std=0.3))
    assert clipped["inputs"].min() == 0.0 and clipped["inputs"].max() == 1.0


def test_masking_zeroes_the_given_fraction():
    batch = _first_batch(_transform("masking", rate=0.25))
    zeroed = batch["inputs"] == 0
    assert zeroed.mean() == pytest.approx(0.25, abs=0.03)
    np.testing.assert_array_equal(batch["inputs"][~zeroed], batch["targets"][~zeroed])


def test_masking_with_a_rate_range_draws_each_examples_fraction():
    batch = _first_batch(_transform("masking", rate=0.1, max_rate=0.9))
    fractions = (batch["inputs"] == 0).reshape(len(batch["inputs"]), -1).mean(axis=1)
    assert fractions.min() < 0.3 and fractions.max() > 0.7  # 64 examples, 36 values each
    assert fractions.mean() == pytest.approx(0.5, abs=0.08)
    whole = _first_batch(_transform("masking", rate=0.1, max_rate=0.9), batch_size=8)
    half = _first_batch(_transform("masking", rate=0.1, max_rate=0.9), slice_=ProcessSlice(8, 1, 2))
    np.testing.assert_array_equal(half["inputs"], whole["inputs"][4:])
    with pytest.raises(ValueError, match=r"max_rate.*must be at least rate=0\.5"):
        Corruption.from_section({"name": "masking", "rate": 0.5, "max_rate": 0.2})


def test_salt_and_pepper_sets_extremes():
    batch = _first_batch(_transform("salt_and_pepper", amount=0.2))
    changed = batch["inputs"] != batch["targets"]
    assert changed.mean() == pytest.approx(0.2, abs=0.03)
    assert set(np.unique(batch["inputs"][changed])) == {0.0, 1.0}


def test_corruption_is_the_same_for_any_number_of_processes():
    whole = _first_batch(_transform("masking", rate=0.3), batch_size=8)
    half = _first_batch(_transform("masking", rate=0.3), slice_=ProcessSlice(8, 1, 2))
    np.testing.assert_array_equal(half["inputs"], whole["inputs"][4:])
    np.testing.assert_array_equal(half["targets"], whole["targets"][4:])


def test_evaluation_batches_are_corrupted_the_same_every_time_and_flattened():
    transform = _transform("gaussian_noise", std=0.1, flatten=True)
    first = next(eval_batches(_images(), transform, ProcessSlice(16), seed=0))
    second = next(eval_batches(_images(), transform, ProcessSlice(16), seed=0))
    np.testing.assert_array_equal(first["inputs"], second["inputs"])
    assert first["inputs"].shape == first["targets"].shape == (16, 36)
    assert not np.array_equal(first["inputs"], first["targets"])


def test_config_fields_reach_the_transform():
    info = types.SimpleNamespace(input_key="image", value_max=255.0)
    config = ml_collections.ConfigDict({"corruption": {"name": "masking", "rate": 0.5}})
    transform = batch_transform_from_config(config, info)
    assert transform.corruption.name == "masking"
    assert transform.corruption.options.rate == 0.5
