"""Per-example reconstruction quality: MSE, PSNR and SSIM (NumPy, float64).

SSIM follows Wang et al. (2004) with the usual constants K1 = 0.01, K2 = 0.03 and a
Gaussian window of standard deviation 1.5 and size 11 (smaller for images under 11
pixels a side: the largest odd size that fits). The local statistics are computed over
'valid' windows only (no padding), averaged over the window positions and channels;
there is no multi-scale variant.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

_SSIM_CHUNK = 500  # examples per step, so the windowed arrays stay small


def mean_squared_error(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean over all values of each example: a, b [n, ...] -> [n]."""
    diff = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    return np.mean(diff.reshape(len(diff), -1) ** 2, axis=1)


def psnr(a: np.ndarray, b: np.ndarray, data_range: float = 1.0) -> np.ndarray:
    """Peak signal-to-noise ratio per example in dB: 10 log10(range^2 / MSE) -> [n].

    Identical examples give +inf.
    """
    mse = mean_squared_error(a, b)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(data_range**2 / mse)


def mean_finite_psnr(values: np.ndarray) -> float:
    """The mean PSNR over examples, with perfect (infinite) ones counted at 100 dB."""
    return float(np.mean(np.minimum(values, 100.0)))


def gaussian_window(size: int, sigma: float = 1.5) -> np.ndarray:
    """A normalised 1-D Gaussian window [size]."""
    offsets = np.arange(size) - (size - 1) / 2
    window = np.exp(-(offsets**2) / (2 * sigma**2))
    return window / window.sum()


def _filter_valid(images: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Separable 'valid' filtering over the two spatial axes of [n, h, w, c]."""
    size = len(window)
    rows = sliding_window_view(images, size, axis=1) @ window  # [n, h - size + 1, w, c]
    return sliding_window_view(rows, size, axis=2) @ window  # [n, ., w - size + 1, c]


def ssim(
    a: np.ndarray,
    b: np.ndarray,
    data_range: float = 1.0,
    *,
    window_size: int = 11,
    sigma: float = 1.5,
) -> np.ndarray:
    """Structural similarity per image: a, b [n, h, w, c] (or [n, h, w]) -> [n].

    1 for identical images; see the module docstring for the exact variant.
    """
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    if a.ndim == 3:
        a, b = a[..., None], b[..., None]
    if a.ndim != 4 or a.shape != b.shape:
        raise ValueError(
            f"ssim needs two [n, h, w, c] arrays of one shape; got {a.shape}, {b.shape}."
        )
    size = min(window_size, min(a.shape[1:3]))
    size -= 1 - size % 2  # odd
    window = gaussian_window(size, sigma)
    c1 = (0.01 * data_range) ** 2
    c2 = (0.03 * data_range) ** 2
    results = []
    for start in range(0, len(a), _SSIM_CHUNK):
        x, y = a[start : start + _SSIM_CHUNK], b[start : start + _SSIM_CHUNK]
        mu_x, mu_y = _filter_valid(x, window), _filter_valid(y, window)
        var_x = _filter_valid(x * x, window) - mu_x**2
        var_y = _filter_valid(y * y, window) - mu_y**2
        cov = _filter_valid(x * y, window) - mu_x * mu_y
        index = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / (
            (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)
        )
        results.append(index.reshape(len(x), -1).mean(axis=1))
    return np.concatenate(results)


def per_class_means(values: np.ndarray, labels: np.ndarray | None) -> dict[int, float]:
    """{label: mean of `values` [n] over examples with that label}; {} without labels."""
    if labels is None:
        return {}
    return {int(c): float(np.mean(values[labels == c])) for c in np.unique(labels)}


def quality_metrics(
    reference: np.ndarray,
    estimate: np.ndarray,
    *,
    data_range: float,
    image_shape: tuple[int, ...] | None,
) -> dict[str, float]:
    """{"mse", "psnr", and "ssim" when `image_shape` ([h, w, c]) is given} averaged over
    examples; `reference` and `estimate` are [n, ...] (reshaped to images for SSIM)."""
    metrics = {
        "mse": float(np.mean(mean_squared_error(reference, estimate))),
        "psnr": mean_finite_psnr(psnr(reference, estimate, data_range)),
    }
    if image_shape is not None:
        shape = (len(reference), *image_shape)
        metrics["ssim"] = float(
            np.mean(ssim(reference.reshape(shape), estimate.reshape(shape), data_range))
        )
    return metrics
