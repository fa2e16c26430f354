"""MS-SSIM in JAX, differentiable, for training on 1 - MS-SSIM (the NumPy version that
evaluations report is `aelab.evaluation.image_quality.ms_ssim`; the two agree to float32
precision, tests/objectives/test_rate_distortion.py).

Wang et al. (2003): contrast-structure at every scale, luminance at the coarsest, 11-tap
Gaussian window (sigma 1.5), 2x2 average pooling between scales, weights (0.0448,
0.2856, 0.3001, 0.2363, 0.1333). Images too small for five scales use as many as fit
(the coarsest still at least the window size: 2 for 28x28), the weights renormalised;
negative means of the maps are clipped at 0 before the power.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def _window_size(height: int, width: int, window_size: int = 11) -> int:
    size = min(window_size, height, width)
    return size - (1 - size % 2)


def scales_that_fit(height: int, width: int, window_size: int = 11) -> int:
    """How many scales an image holds (1 to 5)."""
    size = _window_size(height, width, window_size)
    scales = 1
    while scales < len(WEIGHTS) and min(-(-height // 2**scales), -(-width // 2**scales)) >= size:
        scales += 1
    return scales


def _gaussian(size: int, sigma: float) -> np.ndarray:
    offsets = np.arange(size) - (size - 1) / 2
    window = np.exp(-(offsets**2) / (2 * sigma**2))
    return (window / window.sum()).astype(np.float32)


def _filter_valid(x: jax.Array, window: np.ndarray) -> jax.Array:
    """Separable 'valid' Gaussian filtering of [n, h, w, c], each channel alone."""
    n, h, w, c = x.shape
    planes = jnp.moveaxis(x, -1, 1).reshape(n * c, h, w, 1)
    size = len(window)
    spec = ("NHWC", "HWIO", "NHWC")
    planes = jax.lax.conv_general_dilated(
        planes, jnp.asarray(window).reshape(size, 1, 1, 1), (1, 1), "VALID", dimension_numbers=spec
    )
    planes = jax.lax.conv_general_dilated(
        planes, jnp.asarray(window).reshape(1, size, 1, 1), (1, 1), "VALID", dimension_numbers=spec
    )
    _, h2, w2, _ = planes.shape
    return jnp.moveaxis(planes.reshape(n, c, h2, w2), 1, -1)


def _average_pool(x: jax.Array) -> jax.Array:
    _, h, w, _ = x.shape
    x = jnp.pad(x, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    return 0.25 * (x[:, 0::2, 0::2] + x[:, 1::2, 0::2] + x[:, 0::2, 1::2] + x[:, 1::2, 1::2])


def ms_ssim(
    x: jax.Array, y: jax.Array, data_range: float = 1.0, *, window_size: int = 11
) -> jax.Array:
    """MS-SSIM of each image pair: x, y [n, h, w, c] -> [n] (channels averaged)."""
    _, height, width, _ = x.shape
    scales = scales_that_fit(height, width, window_size)
    weights = np.asarray(WEIGHTS[:scales]) / np.sum(WEIGHTS[:scales])
    window = _gaussian(_window_size(height, width, window_size), 1.5)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    score = jnp.ones((x.shape[0], x.shape[-1]), x.dtype)
    for scale in range(scales):
        if scale > 0:
            x, y = _average_pool(x), _average_pool(y)
        mu_x, mu_y = _filter_valid(x, window), _filter_valid(y, window)
        var_x = _filter_valid(x * x, window) - mu_x**2
        var_y = _filter_valid(y * y, window) - mu_y**2
        cov = _filter_valid(x * y, window) - mu_x * mu_y
        term = (2 * cov + c2) / (var_x + var_y + c2)
        if scale == scales - 1:
            term = term * (2 * mu_x * mu_y + c1) / (mu_x**2 + mu_y**2 + c1)
        # A small floor instead of 0 keeps the power's gradient finite.
        score = score * jnp.maximum(term.mean(axis=(1, 2)), 1e-6) ** weights[scale]
    return score.mean(axis=-1)
