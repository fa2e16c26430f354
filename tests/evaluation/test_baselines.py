"""The classic baselines beside each result: anomaly detectors, denoisers and imputers,
on synthetic data whose answers are known."""

import numpy as np
import pytest

from aelab.evaluation.anomaly import mahalanobis_distances
from aelab.evaluation.anomaly_baselines import baseline_metrics, pca_components_for, pca_errors
from aelab.evaluation.classic_denoisers import CLASSIC_DENOISERS, tune
from aelab.evaluation.image_quality import mean_finite_psnr, psnr
from aelab.evaluation.imputation import baseline_fill, missing_mask


def _subspace_data(rng, n, dims=20, rank=3, noise=0.05):
    basis = rng.normal(size=(rank, dims))
    return rng.normal(size=(n, rank)) @ basis + noise * rng.normal(size=(n, dims)), basis


def test_pca_detector_finds_off_subspace_anomalies_and_reports_its_upper_bound():
    rng = np.random.default_rng(0)
    train, basis = _subspace_data(rng, 300)
    validation = rng.normal(size=(100, 3)) @ basis + 0.05 * rng.normal(size=(100, 20))
    normal = rng.normal(size=(200, 3)) @ basis + 0.05 * rng.normal(size=(200, 20))
    anomalies = normal[:50] + rng.normal(size=(50, 20))  # off the subspace
    test = np.concatenate([normal, anomalies])
    anomalous = np.r_[np.zeros(200, bool), np.ones(50, bool)]
    metrics = baseline_metrics("pca", train, validation, test, anomalous, variance=0.95)
    assert metrics["pca/components"] == 3  # the validation data's rank
    assert metrics["pca/auroc"] > 0.99
    assert metrics["pca_upper_bound/auroc"] >= metrics["pca/auroc"]
    for name in ("isolation_forest", "one_class_svm"):
        assert baseline_metrics(name, train, validation, test, anomalous)[f"{name}/auroc"] > 0.8


def test_pca_errors_vanish_in_the_subspace():
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(1)
    train, basis = _subspace_data(rng, 200, noise=0.0)
    pca = PCA(n_components=5).fit(train)
    inside = rng.normal(size=(10, 3)) @ basis
    np.testing.assert_allclose(pca_errors(pca, inside, 3), 0.0, atol=1e-9)
    assert pca_components_for(pca, inside, 0.999) == 3


def test_mahalanobis_distance_of_a_standard_gaussian_is_the_norm():
    rng = np.random.default_rng(2)
    codes = rng.normal(size=(200_000, 3))
    points = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 2.0]])
    np.testing.assert_allclose(mahalanobis_distances(codes, points), [0.0, 3.0], atol=0.02)


@pytest.mark.slow  # tunes six denoisers (22 s)
def test_tuning_picks_the_strength_with_the_best_validation_psnr():
    rng = np.random.default_rng(3)
    clean = np.zeros((20, 16, 16, 1), np.float32)
    clean[:, 4:12, 4:12] = 1.0
    noisy = np.clip(clean + 0.3 * rng.normal(size=clean.shape), 0, 1).astype(np.float32)
    score = lambda a, b: mean_finite_psnr(psnr(a, b))
    for name in ("gaussian", "median", "tv", "wavelet", "nl_means", "bm3d"):
        denoiser = CLASSIC_DENOISERS[name]
        best, value = tune(denoiser, clean, noisy, score)
        assert best in denoiser.strengths
        assert value == max(score(clean, denoiser(noisy, s)) for s in denoiser.strengths)
        assert value > score(clean, noisy), name  # every one of them helps here


@pytest.mark.parametrize("name", ["mean", "knn", "iterative"])
def test_imputers_fill_only_the_missing_values_and_use_the_structure(name):
    rng = np.random.default_rng(4)
    train, basis = _subspace_data(rng, 400)
    test = rng.normal(size=(50, 3)) @ basis
    missing = missing_mask(test.shape, "random", 0.3, rng)
    filled = baseline_fill(
        name, train, test, missing, neighbors=5, features=19, iterations=5, seed=0
    )
    np.testing.assert_array_equal(filled[~missing], test[~missing].astype(np.float32))
    error = np.mean((filled - test)[missing] ** 2)
    mean_error = np.mean((train.mean(axis=0) - test)[missing] ** 2)
    if name == "mean":
        assert error == pytest.approx(mean_error, rel=1e-5)
    else:  # low-rank data: the neighbours and the regressions do far better
        assert error < 0.5 * mean_error
