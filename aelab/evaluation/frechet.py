"""The Fréchet distance between two Gaussians fitted to feature sets (the formula of
FID; which features it compares decides what the number means)."""

from __future__ import annotations

import numpy as np


def gaussian_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean [d], covariance [d, d]) of features [n, d] (unbiased covariance, float64)."""
    features = np.asarray(features, np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"Need features [n >= 2, d]; got shape {features.shape}.")
    return features.mean(axis=0), np.cov(features, rowvar=False).reshape(
        features.shape[1], features.shape[1]
    )


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """The symmetric square root of a symmetric PSD matrix (negative rounding clipped)."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(
    mean_a: np.ndarray, cov_a: np.ndarray, mean_b: np.ndarray, cov_b: np.ndarray
) -> float:
    """||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a S_b)^{1/2}): the squared 2-Wasserstein
    distance between N(mu_a, S_a) and N(mu_b, S_b).

    tr((S_a S_b)^{1/2}) is computed as the sum of the square roots of the eigenvalues of
    the symmetric PSD matrix S_a^{1/2} S_b S_a^{1/2} (the same eigenvalues), which stays
    real and stable for singular covariances, unlike a general matrix square root.

    Args: means [d], covariances [d, d] (symmetric PSD). Returns a float >= 0.
    """
    root_a = _psd_sqrt(np.asarray(cov_a, np.float64))
    middle = root_a @ np.asarray(cov_b, np.float64) @ root_a
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0.0, None)).sum()
    diff = np.asarray(mean_a, np.float64) - np.asarray(mean_b, np.float64)
    value = diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2.0 * trace_sqrt
    return float(max(value, 0.0))


def feature_frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """The Fréchet distance between Gaussians fitted to features [n, d] and [m, d]."""
    return frechet_distance(*gaussian_statistics(features_a), *gaussian_statistics(features_b))
