"""Corruptions: one registry for training and evaluation; what each does to clean inputs,
seeded, the same for any number of processes, with clear errors."""

import numpy as np
import pytest

from aelab.core.errors import ConfigError
from aelab.core.registry import UnknownNameError
from aelab.data.corruptions import BatchNoise, Corruption, list_corruptions


def _clean():
    return np.random.default_rng(0).random((100, 8, 8, 1)).astype(np.float32)


def _corrupt(spec: dict, x, seed=0, *, scaled=True):
    return Corruption.from_section(spec)(
        x, BatchNoise(np.random.default_rng(seed), len(x)), scaled=scaled
    )


def test_the_registry_holds_the_denoising_corruptions():
    assert list_corruptions() == ["gaussian_noise", "masking", "none", "salt_and_pepper"]


def test_gaussian_noise_has_the_asked_spread_and_clips_scaled_data():
    x = np.full((200, 50), 0.5, np.float32)
    noisy = _corrupt({"name": "gaussian_noise", "std": 0.1}, x)
    assert noisy.dtype == np.float32 and noisy.shape == x.shape
    assert abs(np.std(noisy - x) - 0.1) < 0.005
    clipped = _corrupt({"name": "gaussian_noise", "std": 2.0}, x)
    assert clipped.min() == 0.0 and clipped.max() == 1.0
    unclipped = _corrupt({"name": "gaussian_noise", "std": 2.0, "clip": False}, x)
    assert unclipped.min() < 0.0
    # Real-valued data (not scaled to [0, 1]) are never clipped.
    assert _corrupt({"name": "gaussian_noise", "std": 2.0}, x, scaled=False).min() < 0.0


def test_salt_and_pepper_and_masking_change_the_asked_fraction():
    x = _clean()
    salted = _corrupt({"name": "salt_and_pepper", "amount": 0.3}, x, seed=1)
    changed = salted != x
    assert abs(changed.mean() - 0.3) < 0.03
    assert set(np.unique(salted[changed])) <= {0.0, 1.0}
    masked = _corrupt({"name": "masking", "rate": 0.4}, x, seed=1)
    assert abs((masked == 0).mean() - 0.4) < 0.03
    np.testing.assert_array_equal(masked[masked != 0], x[masked != 0])


def test_salt_and_pepper_of_real_valued_data_uses_each_examples_extremes():
    series = np.random.default_rng(1).normal(size=(8, 20, 1)).astype(np.float32)
    out = _corrupt({"name": "salt_and_pepper", "amount": 0.5}, series, scaled=False)
    changed = out != series
    lows, highs = series.min(axis=(1, 2)), series.max(axis=(1, 2))
    for i in range(8):
        assert set(np.unique(out[i][changed[i]])) <= {lows[i], highs[i]}


def test_same_seed_same_corruption_and_none_is_the_identity():
    x = _clean()
    for name in list_corruptions():
        a = _corrupt({"name": name}, x, seed=7)
        b = _corrupt({"name": name}, x, seed=7)
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(_corrupt({"name": "none"}, x), x)


def test_a_process_corrupts_its_rows_of_the_global_batch_as_the_whole_batch_would():
    x = _clean()[:8]
    corruption = Corruption.from_section({"name": "masking", "rate": 0.3})
    whole = corruption(x, BatchNoise(np.random.default_rng(3), 8), scaled=True)
    half = corruption(x[4:], BatchNoise(np.random.default_rng(3), 8, slice(4, 8)), scaled=True)
    np.testing.assert_array_equal(half, whole[4:])


def test_bad_names_options_and_values_are_explained():
    with pytest.raises(UnknownNameError, match=r"Unknown corruption 'blur'.*gaussian_noise"):
        Corruption.from_section({"name": "blur"})
    with pytest.raises(
        ConfigError,
        match=r"sigma is not a known field of corruption "
        r"'gaussian_noise': .*known fields here: clip, name, std",
    ):
        Corruption.from_section({"name": "gaussian_noise", "sigma": 0.1})
    with pytest.raises(
        ConfigError,
        match=r"rate=1.5 is not valid: must be a finite number > 0 "
        r"and <= 1",
    ):
        Corruption.from_section({"name": "masking", "rate": 1.5})
