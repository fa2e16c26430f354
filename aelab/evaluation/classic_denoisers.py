"""The classic image denoisers a denoising autoencoder is compared with.

Each takes one noisy grey image [h, w] in [0, 1] and a strength parameter; the denoising
evaluator picks each one's strength on validation images (the one with the best mean
PSNR on them), then denoises the test images with it:

  gaussian     Gaussian smoothing, sigma (pixels)              scipy.ndimage
  median       median filter, window size                      scipy.ndimage
  tv           total variation (Chambolle 2004), weight        scikit-image
  wavelet      wavelet thresholding (BayesShrink, soft), the    scikit-image
               wavelet's number of levels
  nl_means     non-local means (Buades et al. 2005), h as a     scikit-image
               multiple of the estimated noise sigma
  bm3d         BM3D (Dabov et al. 2007), the noise sigma it     the `bm3d` package
               assumes

The strength grids cover the useful range for 28x28 digits and clothes at noise std
0.1-0.5 and salt-and-pepper noise; the chosen value is reported with each result. BM3D
denoises mosaics of 10 x 10 images at a time (its cost is mostly fixed per call: 0.29 s
for one 28x28 image, 2 s for a 280x280 mosaic here); its block matching then also finds
similar patches in the neighbouring images, which can only help it.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Sequence

import numpy as np
from scipy import ndimage


def _gaussian(image: np.ndarray, sigma: float) -> np.ndarray:
    return ndimage.gaussian_filter(image, sigma=sigma, mode="nearest")


def _median(image: np.ndarray, size: float) -> np.ndarray:
    return ndimage.median_filter(image, size=int(size), mode="nearest")


def _tv(image: np.ndarray, weight: float) -> np.ndarray:
    from skimage.restoration import denoise_tv_chambolle

    return denoise_tv_chambolle(image, weight=weight)


def _wavelet(image: np.ndarray, levels: float) -> np.ndarray:
    from skimage.restoration import denoise_wavelet

    return denoise_wavelet(
        image,
        wavelet="db2",
        mode="soft",
        method="BayesShrink",
        wavelet_levels=int(levels),
        rescale_sigma=True,
    )


def _nl_means(image: np.ndarray, h_factor: float) -> np.ndarray:
    from skimage.restoration import denoise_nl_means, estimate_sigma

    sigma = float(estimate_sigma(image))
    return denoise_nl_means(
        image,
        h=h_factor * max(sigma, 1e-3),
        sigma=sigma,
        patch_size=3,
        patch_distance=4,
        fast_mode=True,
    )


def _bm3d(image: np.ndarray, sigma: float) -> np.ndarray:
    try:
        import bm3d
    except ImportError:
        raise ImportError(
            "The classic denoiser 'bm3d' needs the bm3d package: pip install bm3d (or leave "
            "it out of config.evals.denoising.classic)."
        ) from None
    return np.asarray(bm3d.bm3d(image, sigma_psd=sigma), np.float64)


@dataclasses.dataclass(frozen=True)
class ClassicDenoiser:
    """A denoiser and the strengths it is tuned over.

    Attributes:
      name: its name in results ("<corruption>/<name>/psnr").
      function: (image [h, w], strength) -> denoised image.
      strengths: the grid the evaluator picks from on validation images.
      parameter: what the strength is, for the results table.
      mosaic: images per side of the mosaics it denoises at once (1: one at a time).
    """

    name: str
    function: Callable[[np.ndarray, float], np.ndarray]
    strengths: tuple[float, ...]
    parameter: str
    mosaic: int = 1

    def __call__(self, images: np.ndarray, strength: float) -> np.ndarray:
        """Denoises images [n, h, w, 1] (or [n, h, w]) in [0, 1] with one strength."""
        grey = np.asarray(images[..., 0] if images.ndim == 4 else images, np.float64)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # skimage's notes on small images / levels
            if self.mosaic > 1:
                out = self._by_mosaics(grey, strength)
            else:
                out = np.stack([self.function(x, strength) for x in grey])
        out = np.clip(out, 0.0, 1.0).astype(np.float32)
        return out[..., None] if images.ndim == 4 else out

    def _by_mosaics(self, grey: np.ndarray, strength: float) -> np.ndarray:
        n, h, w = grey.shape
        per = self.mosaic * self.mosaic
        out = np.empty_like(grey)
        for start in range(0, n, per):
            chunk = grey[start : start + per]
            padded = np.concatenate([chunk, np.zeros((per - len(chunk), h, w))])
            tiles = padded.reshape(self.mosaic, self.mosaic, h, w).transpose(0, 2, 1, 3)
            denoised = self.function(tiles.reshape(self.mosaic * h, self.mosaic * w), strength)
            back = denoised.reshape(self.mosaic, h, self.mosaic, w).transpose(0, 2, 1, 3)
            out[start : start + len(chunk)] = back.reshape(per, h, w)[: len(chunk)]
        return out


CLASSIC_DENOISERS = {
    d.name: d
    for d in (
        ClassicDenoiser("gaussian", _gaussian, (0.4, 0.6, 0.8, 1.0, 1.3, 1.6, 2.0), "sigma"),
        ClassicDenoiser("median", _median, (2, 3, 4, 5), "size"),
        ClassicDenoiser("tv", _tv, (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.8), "weight"),
        ClassicDenoiser("wavelet", _wavelet, (1, 2, 3), "levels"),
        ClassicDenoiser("nl_means", _nl_means, (0.4, 0.6, 0.8, 1.0, 1.3, 1.6), "h / sigma"),
        ClassicDenoiser("bm3d", _bm3d, (0.1, 0.2, 0.3, 0.4, 0.5, 0.7), "sigma", mosaic=10),
    )
}


def tune(
    denoiser: ClassicDenoiser,
    clean: np.ndarray,
    noisy: np.ndarray,
    score: Callable[[np.ndarray, np.ndarray], float],
    strengths: Sequence[float] | None = None,
) -> tuple[float, float]:
    """(best strength, its score) of `denoiser` on validation pairs (clean, noisy)."""
    results = {s: score(clean, denoiser(noisy, s)) for s in (strengths or denoiser.strengths)}
    best = max(results, key=results.get)
    return best, results[best]
