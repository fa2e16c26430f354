"""MS-SSIM against known answers and a window-by-window computation."""

import numpy as np
import pytest
from scipy import ndimage

from aelab.evaluation.image_quality import MS_SSIM_WEIGHTS, ms_ssim, ms_ssim_scales, ssim


def _smooth_images(shape, seed=0):
    """Random smooth images in [0, 1]: [n, h, w, c]."""
    rng = np.random.default_rng(seed)
    images = ndimage.gaussian_filter(rng.random(shape), sigma=(0, 2, 2, 0))
    return (images - images.min()) / (images.max() - images.min())


def test_identical_images_score_one_at_every_size():
    for shape in [(2, 8, 8, 1), (2, 28, 28, 1), (2, 50, 44, 3)]:
        images = _smooth_images(shape)
        np.testing.assert_allclose(ms_ssim(images, images), 1.0)


def test_more_noise_scores_lower():
    images = _smooth_images((4, 28, 28, 1))
    rng = np.random.default_rng(1)
    noise = rng.normal(size=images.shape)
    scores = [ms_ssim(images, np.clip(images + s * noise, 0, 1)) for s in (0.02, 0.1, 0.3)]
    assert np.all(scores[0] > scores[1]) and np.all(scores[1] > scores[2])
    assert np.all(scores[2] > 0)


def test_one_scale_is_ssim():
    a = _smooth_images((3, 28, 28, 2))
    b = np.clip(a + np.random.default_rng(2).normal(0, 0.1, a.shape), 0, 1)
    np.testing.assert_allclose(ms_ssim(a, b, scales=1), ssim(a, b), rtol=1e-12)
    # 8x8 images hold one scale of a 7-tap window: the default is then plain SSIM.
    small_a, small_b = a[:, :8, :8], b[:, :8, :8]
    np.testing.assert_allclose(ms_ssim(small_a, small_b), ssim(small_a, small_b), rtol=1e-12)


def test_scales_that_fit_an_image():
    assert ms_ssim_scales(28, 28) == 2  # 28 and 14; 7 is under the 11-tap window
    assert ms_ssim_scales(20, 20) == 1
    assert ms_ssim_scales(21, 40) == 2  # 21 pools to 11 (the odd row is repeated)
    assert ms_ssim_scales(160, 160) == 4
    assert ms_ssim_scales(176, 176) == 5
    assert ms_ssim_scales(1000, 1000) == 5
    images = _smooth_images((1, 28, 28, 1))
    with pytest.raises(ValueError, match="use 1 to 2"):
        ms_ssim(images, images, scales=3)


def _brute_force_contrast_structure_and_ssim(x, y):
    """Mean cs and SSIM over all 11x11 windows of two [h, w] images, one window at a time."""
    g = np.exp(-((np.arange(11) - 5) ** 2) / (2 * 1.5**2))
    w = np.outer(g, g) / np.outer(g, g).sum()
    c1, c2 = 0.01**2, 0.03**2
    cs, full = [], []
    for i in range(x.shape[0] - 10):
        for j in range(x.shape[1] - 10):
            px, py = x[i : i + 11, j : j + 11], y[i : i + 11, j : j + 11]
            mx, my = (w * px).sum(), (w * py).sum()
            vx, vy = (w * px * px).sum() - mx**2, (w * py * py).sum() - my**2
            cov = (w * px * py).sum() - mx * my
            cs.append((2 * cov + c2) / (vx + vy + c2))
            full.append(cs[-1] * (2 * mx * my + c1) / (mx**2 + my**2 + c1))
    return np.mean(cs), np.mean(full)


def test_two_scales_match_a_window_by_window_computation():
    rng = np.random.default_rng(3)
    x = _smooth_images((1, 22, 22, 1), seed=4)
    y = np.clip(x + rng.normal(0, 0.1, x.shape), 0, 1)
    cs_fine, _ = _brute_force_contrast_structure_and_ssim(x[0, ..., 0], y[0, ..., 0])
    pool = lambda v: v[0, ..., 0].reshape(11, 2, 11, 2).mean(axis=(1, 3))
    _, ssim_coarse = _brute_force_contrast_structure_and_ssim(pool(x), pool(y))
    w1, w2 = np.array(MS_SSIM_WEIGHTS[:2]) / sum(MS_SSIM_WEIGHTS[:2])
    expected = cs_fine**w1 * ssim_coarse**w2
    np.testing.assert_allclose(ms_ssim(x, y), [expected], rtol=1e-10)


def test_anti_correlated_images_score_zero_rather_than_nan():
    images = _smooth_images((2, 28, 28, 1))
    scores = ms_ssim(images, 1.0 - images)  # negative contrast-structure, clipped at 0
    np.testing.assert_array_equal(scores, 0.0)
