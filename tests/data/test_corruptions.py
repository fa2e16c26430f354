"""Corruptions: what each does to clean inputs, seeded, with clear errors."""

import numpy as np
import pytest

from aelab.data.corruptions import corrupt, list_corruptions
from aelab.registry import UnknownNameError


def _clean():
    return np.random.default_rng(0).random((100, 8, 8, 1)).astype(np.float32)


def test_gaussian_noise_has_the_asked_spread_and_clips():
    x = np.full((200, 50), 0.5, np.float32)
    noisy = corrupt("gaussian_noise", x, np.random.default_rng(0), std=0.1)
    assert noisy.dtype == np.float32 and noisy.shape == x.shape
    assert abs(np.std(noisy - x) - 0.1) < 0.005
    clipped = corrupt("gaussian_noise", x, np.random.default_rng(0), std=2.0)
    assert clipped.min() == 0.0 and clipped.max() == 1.0
    unclipped = corrupt("gaussian_noise", x, np.random.default_rng(0), std=2.0, clip=False)
    assert unclipped.min() < 0.0


def test_salt_and_pepper_and_masking_change_the_asked_fraction():
    x = _clean()
    salted = corrupt("salt_and_pepper", x, np.random.default_rng(1), amount=0.3)
    changed = salted != x
    assert abs(changed.mean() - 0.3) < 0.03
    assert set(np.unique(salted[changed])) <= {0.0, 1.0}
    masked = corrupt("masking", x, np.random.default_rng(1), rate=0.4)
    assert abs((masked == 0).mean() - 0.4) < 0.03
    np.testing.assert_array_equal(masked[masked != 0], x[masked != 0])


def test_same_seed_same_corruption():
    x = _clean()
    for name in list_corruptions():
        a = corrupt(name, x, np.random.default_rng(7))
        b = corrupt(name, x, np.random.default_rng(7))
        np.testing.assert_array_equal(a, b)


def test_bad_names_and_options_are_explained():
    with pytest.raises(UnknownNameError, match="gaussian_noise"):
        corrupt("blur", _clean(), np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"Unknown option\(s\) sigma .* options: std, clip"):
        corrupt("gaussian_noise", _clean(), np.random.default_rng(0), sigma=0.1)
