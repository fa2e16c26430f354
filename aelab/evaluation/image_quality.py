"""Per-example reconstruction quality: MSE, PSNR, SSIM and MS-SSIM (NumPy, float64).

SSIM follows Wang et al. (2004) with the usual constants K1 = 0.01, K2 = 0.03 and a
Gaussian window of standard deviation 1.5 and size 11 (smaller for images under 11
pixels a side: the largest odd size that fits). The local statistics are computed over
'valid' windows only (no padding), averaged over the window positions and channels.
MS-SSIM (Wang et al. 2003) repeats this on 2x2-average-pooled copies of the images;
`ms_ssim` says how it treats images too small for its five scales.
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


def _as_image_pair(a: np.ndarray, b: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """a, b as float64 [n, h, w, c] ([n, h, w] gains a channel axis); checks the shapes."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    if a.ndim == 3:
        a, b = a[..., None], b[..., None]
    if a.ndim != 4 or a.shape != b.shape:
        raise ValueError(
            f"{name} needs two [n, h, w, c] arrays of one shape; got {a.shape}, {b.shape}."
        )
    return a, b


def _window_size(height: int, width: int, window_size: int) -> int:
    """`window_size`, or the largest odd size under it that fits an image side."""
    size = min(window_size, height, width)
    return size - (1 - size % 2)


def _luminance_and_contrast_structure(
    x: np.ndarray, y: np.ndarray, window: np.ndarray, data_range: float
) -> tuple[np.ndarray, np.ndarray]:
    """The SSIM luminance and contrast-structure maps of x, y [n, h, w, c], each
    [n, h - size + 1, w - size + 1, c] for a window of `size` taps; SSIM is their product."""
    c1 = (0.01 * data_range) ** 2
    c2 = (0.03 * data_range) ** 2
    mu_x, mu_y = _filter_valid(x, window), _filter_valid(y, window)
    var_x = _filter_valid(x * x, window) - mu_x**2
    var_y = _filter_valid(y * y, window) - mu_y**2
    cov = _filter_valid(x * y, window) - mu_x * mu_y
    luminance = (2 * mu_x * mu_y + c1) / (mu_x**2 + mu_y**2 + c1)
    contrast_structure = (2 * cov + c2) / (var_x + var_y + c2)
    return luminance, contrast_structure


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
    a, b = _as_image_pair(a, b, "ssim")
    window = gaussian_window(_window_size(*a.shape[1:3], window_size), sigma)
    results = []
    for start in range(0, len(a), _SSIM_CHUNK):
        x, y = a[start : start + _SSIM_CHUNK], b[start : start + _SSIM_CHUNK]
        luminance, contrast_structure = _luminance_and_contrast_structure(x, y, window, data_range)
        results.append((luminance * contrast_structure).reshape(len(x), -1).mean(axis=1))
    return np.concatenate(results)


MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
"""The exponents of the five scales, finest first (Wang et al. 2003)."""


def _average_pool(images: np.ndarray) -> np.ndarray:
    """2x2 average pooling of [n, h, w, c] -> [n, ceil(h / 2), ceil(w / 2), c]; an odd last
    row or column is paired with a copy of itself (MATLAB's 'symmetric' boundary)."""
    _, height, width, _ = images.shape
    images = np.pad(images, ((0, 0), (0, height % 2), (0, width % 2), (0, 0)), mode="edge")
    return 0.25 * (
        images[:, 0::2, 0::2]
        + images[:, 1::2, 0::2]
        + images[:, 0::2, 1::2]
        + images[:, 1::2, 1::2]
    )


def ms_ssim_scales(height: int, width: int, window_size: int = 11) -> int:
    """How many MS-SSIM scales an image of height x width holds (1 to 5): each scale halves
    the sides (rounding up), and the coarsest must still hold the window."""
    size = _window_size(height, width, window_size)
    scales = 1
    while (
        scales < len(MS_SSIM_WEIGHTS)
        and min(-(-height // 2**scales), -(-width // 2**scales)) >= size
    ):
        scales += 1
    return scales


def ms_ssim(
    a: np.ndarray,
    b: np.ndarray,
    data_range: float = 1.0,
    *,
    scales: int | None = None,
    window_size: int = 11,
    sigma: float = 1.5,
) -> np.ndarray:
    """Multi-scale structural similarity per image: a, b [n, h, w, c] (or [n, h, w]) -> [n].

    MS-SSIM = SSIM_M^w_M * prod_{j < M} cs_j^w_j (Wang et al. 2003) over scales j = 1..M,
    each half the size of the one before (2x2 average pooling): cs_j is the mean of the
    contrast-structure map at scale j, SSIM_M the mean SSIM map (luminance times contrast-
    structure) at the coarsest scale, as in the reference MATLAB code and TensorFlow's
    `ssim_multiscale`. Each channel is scored alone and the scores are averaged.

    The five weights w are (0.0448, 0.2856, 0.3001, 0.2363, 0.1333). Small images cannot
    hold five scales of an 11-tap window: with `scales=None` as many are used as fit
    (`ms_ssim_scales`: the coarsest scale is still at least the window size, e.g. 2
    scales, 28 and 14 pixels, for 28x28 MNIST and 1 for images under 21 pixels a side),
    with the first M weights renormalised to sum to 1. On small images this is therefore
    MS-SSIM with fewer scales, not comparable with five-scale values reported on large
    ones; `scales=1` is exactly `ssim`. Images under 11 pixels a side use a smaller
    window, as in `ssim`.

    Negative cs_j or SSIM_M (anti-correlated structure) are clipped at 0 before the
    power, as common implementations do, so such images score 0 rather than NaN.
    """
    a, b = _as_image_pair(a, b, "ms_ssim")
    height, width = a.shape[1:3]
    most = ms_ssim_scales(height, width, window_size)
    if scales is None:
        scales = most
    if not 1 <= scales <= most:
        raise ValueError(
            f"ms_ssim: scales={scales} does not fit {height}x{width} images with a "
            f"{window_size}-tap window; use 1 to {most}, or scales=None for the most that fit."
        )
    weights = np.asarray(MS_SSIM_WEIGHTS[:scales])
    weights = weights / weights.sum()
    window = gaussian_window(_window_size(height, width, window_size), sigma)
    results = []
    for start in range(0, len(a), _SSIM_CHUNK):
        x, y = a[start : start + _SSIM_CHUNK], b[start : start + _SSIM_CHUNK]
        score = np.ones((len(x), x.shape[3]))  # [n, c]
        for scale in range(scales):
            if scale > 0:
                x, y = _average_pool(x), _average_pool(y)
            luminance, contrast_structure = _luminance_and_contrast_structure(
                x, y, window, data_range
            )
            term = contrast_structure if scale < scales - 1 else luminance * contrast_structure
            term = np.maximum(term.mean(axis=(1, 2)), 0.0)  # [n, c]
            score *= term ** weights[scale]
        results.append(score.mean(axis=1))
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


def eight_bit_quality(reference: np.ndarray, decoded: np.ndarray) -> dict[str, float]:
    """Mean per-image PSNR (dB, `mean_finite_psnr`) and mean MS-SSIM of decoded uint8
    images [n, h, w, c] against the uint8 originals, both read as [0, 1]."""
    a, b = reference / 255.0, decoded / 255.0
    return {
        "psnr": mean_finite_psnr(psnr(a, b, 1.0)),
        "ms_ssim": float(np.mean(ms_ssim(a, b, 1.0))),
    }
