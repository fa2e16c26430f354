"""The Fréchet distance against its closed form and a SciPy reference."""

import numpy as np
import pytest
import scipy.linalg

from aelab.evaluation.frechet import feature_frechet_distance, frechet_distance, gaussian_statistics


def _reference(mean_a, cov_a, mean_b, cov_b):
    """The textbook formula with scipy.linalg.sqrtm (as pytorch-fid computes it)."""
    root = scipy.linalg.sqrtm(cov_a @ cov_b).real
    diff = mean_a - mean_b
    return float(diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(root))


def _random_cov(rng, d):
    a = rng.normal(size=(d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def test_identical_sets_are_at_distance_zero():
    features = np.random.default_rng(0).normal(size=(500, 6))
    assert feature_frechet_distance(features, features) == pytest.approx(0.0, abs=1e-8)


def test_a_shifted_mean_gives_the_squared_shift():
    rng = np.random.default_rng(1)
    cov = _random_cov(rng, 5)
    mean = rng.normal(size=5)
    shift = np.array([1.0, -2.0, 0.5, 0.0, 3.0])
    assert frechet_distance(mean, cov, mean + shift, cov) == pytest.approx(shift @ shift, rel=1e-9)
    features = rng.normal(size=(400, 5))
    assert feature_frechet_distance(features, features + shift) == pytest.approx(
        shift @ shift, rel=1e-6
    )


def test_matches_the_scipy_reference_on_random_gaussians():
    rng = np.random.default_rng(2)
    for d in (1, 3, 8):
        args = (rng.normal(size=d), _random_cov(rng, d), rng.normal(size=d), _random_cov(rng, d))
        assert frechet_distance(*args) == pytest.approx(_reference(*args), rel=1e-6, abs=1e-9)


def test_isotropic_gaussians_match_the_closed_form():
    """N(0, a^2 I) vs N(0, b^2 I) in d dimensions: d (a - b)^2."""
    d, a, b = 4, 2.0, 0.5
    value = frechet_distance(np.zeros(d), a**2 * np.eye(d), np.zeros(d), b**2 * np.eye(d))
    assert value == pytest.approx(d * (a - b) ** 2, rel=1e-9)


def test_singular_covariances_stay_finite_and_non_negative():
    rng = np.random.default_rng(3)
    low_rank = rng.normal(size=(50, 2)) @ rng.normal(size=(2, 10))  # rank 2 in 10 dims
    mean, cov = gaussian_statistics(low_rank)
    value = frechet_distance(mean, cov, mean + 0.1, cov)
    assert np.isfinite(value) and value == pytest.approx(10 * 0.01, rel=1e-4)


def test_statistics_need_two_examples():
    with pytest.raises(ValueError, match="n >= 2"):
        gaussian_statistics(np.zeros((1, 3)))
