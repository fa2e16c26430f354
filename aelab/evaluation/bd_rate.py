"""Bjøntegaard deltas: how far apart two rate-distortion curves are, on average.

Each curve is a few (rate, quality) points, e.g. bits per image and PSNR at several
quality settings of one codec. `bd_rate` fits log rate as a function of quality for both
curves, integrates the difference over the quality range they share and reports it as a
percentage: the extra (positive) or saved (negative) rate of the test curve against the
anchor at equal quality. `bd_psnr` swaps the axes: the quality gained at equal rate.

Two fits, by `method`:

  cubic   a third-order polynomial through all the points by least squares, as in the
          original VCEG-M33 (Bjøntegaard 2001); needs at least 4 points per curve.
  pchip   piecewise cubic Hermite interpolation through every point (Fritsch-Carlson
          monotone slopes, SciPy's `PchipInterpolator`), integrated exactly; the usual
          choice of modern implementations, since a cubic fit can overshoot between
          points; needs at least 2 points per curve.

The logarithm's base does not matter: BD-rate is exp of a mean difference of natural
logs, and a change of base on the rate axis only rescales it linearly for BD-PSNR.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.interpolate import PchipInterpolator

_FEWEST_POINTS = {"cubic": 4, "pchip": 2}


def _curve(
    rate: Sequence[float], quality: Sequence[float], name: str, method: str
) -> tuple[np.ndarray, np.ndarray]:
    """The points of one curve as float64 (rate [k], quality [k]) sorted by quality, after
    checking them."""
    rate = np.asarray(rate, np.float64).ravel()
    quality = np.asarray(quality, np.float64).ravel()
    if method not in _FEWEST_POINTS:
        raise ValueError(f"method={method!r} is not one of {sorted(_FEWEST_POINTS)}.")
    if rate.shape != quality.shape:
        raise ValueError(
            f"the {name} curve has {rate.size} rates but {quality.size} qualities; "
            "give one of each per point."
        )
    if rate.size < _FEWEST_POINTS[method]:
        raise ValueError(
            f"the {name} curve has {rate.size} points; method={method!r} needs at least "
            f"{_FEWEST_POINTS[method]}."
        )
    if not (np.all(np.isfinite(rate)) and np.all(np.isfinite(quality))):
        raise ValueError(
            f"the {name} curve has non-finite values: rates {rate}, qualities {quality}."
        )
    if np.any(rate <= 0):
        raise ValueError(f"the {name} curve has non-positive rates {rate}; rates must be > 0.")
    order = np.argsort(quality, kind="stable")
    return rate[order], quality[order]


def _mean_over(x: np.ndarray, y: np.ndarray, low: float, high: float, method: str) -> float:
    """The mean over [low, high] of the curve through points (x [k], y [k]), x sorted."""
    if method == "cubic":
        integral = np.polyint(np.polyfit(x, y, 3))
        return float((np.polyval(integral, high) - np.polyval(integral, low)) / (high - low))
    if np.any(np.diff(x) == 0):
        raise ValueError(
            f"method='pchip' needs distinct values on its abscissa; got {x} (repeated points)."
        )
    return float(PchipInterpolator(x, y).integrate(low, high) / (high - low))


def _overlap(x_test: np.ndarray, x_anchor: np.ndarray, axis: str) -> tuple[float, float]:
    """The shared range [low, high] of two sorted abscissas, or a ValueError if none."""
    low, high = max(x_test[0], x_anchor[0]), min(x_test[-1], x_anchor[-1])
    if not high > low:
        raise ValueError(
            f"the curves do not overlap in {axis}: test [{x_test[0]:g}, {x_test[-1]:g}], "
            f"anchor [{x_anchor[0]:g}, {x_anchor[-1]:g}]."
        )
    return low, high


def bd_rate(
    rate_test: Sequence[float],
    quality_test: Sequence[float],
    rate_anchor: Sequence[float],
    quality_anchor: Sequence[float],
    *,
    method: str = "pchip",
) -> float:
    """The Bjøntegaard delta rate of the test curve against the anchor, in percent.

    rate_*, quality_*: [k] points of each curve (any order; k may differ between curves),
    rates > 0 in any unit shared by both curves (bits per image, bits per pixel).

    With r(q) the fitted natural log of rate at quality q over the shared quality range
    [q_lo, q_hi] = [max of the minima, min of the maxima]:

      BD-rate = 100 (exp(mean_{q in [q_lo, q_hi]} (r_test(q) - r_anchor(q))) - 1)

    -50 means the test curve needs half the anchor's rate at equal quality, +100 twice it.
    Raises ValueError for curves that do not overlap, have too few points for `method`,
    non-positive rates or non-finite values.
    """
    rate_test, quality_test = _curve(rate_test, quality_test, "test", method)
    rate_anchor, quality_anchor = _curve(rate_anchor, quality_anchor, "anchor", method)
    low, high = _overlap(quality_test, quality_anchor, "quality")
    difference = _mean_over(quality_test, np.log(rate_test), low, high, method) - _mean_over(
        quality_anchor, np.log(rate_anchor), low, high, method
    )
    return float(100.0 * np.expm1(difference))


def bd_psnr(
    rate_test: Sequence[float],
    quality_test: Sequence[float],
    rate_anchor: Sequence[float],
    quality_anchor: Sequence[float],
    *,
    method: str = "pchip",
) -> float:
    """The Bjøntegaard delta quality of the test curve against the anchor (dB for PSNR).

    Arguments as for `bd_rate`. With q(r) the fitted quality at natural log rate r over
    the shared log-rate range [r_lo, r_hi]:

      BD-PSNR = mean_{r in [r_lo, r_hi]} (q_test(r) - q_anchor(r))

    Positive means the test curve gives more quality at equal rate. Raises ValueError as
    `bd_rate` does (here the curves must overlap in rate).
    """
    rate_test, quality_test = _curve(rate_test, quality_test, "test", method)
    rate_anchor, quality_anchor = _curve(rate_anchor, quality_anchor, "anchor", method)
    # Re-sorted by rate: on a real curve quality rises with rate, but noise may swap points.
    test_order, anchor_order = np.argsort(rate_test), np.argsort(rate_anchor)
    low, high = np.log(_overlap(rate_test[test_order], rate_anchor[anchor_order], "rate"))
    log_test, log_anchor = np.log(rate_test[test_order]), np.log(rate_anchor[anchor_order])
    return _mean_over(log_test, quality_test[test_order], low, high, method) - _mean_over(
        log_anchor, quality_anchor[anchor_order], low, high, method
    )
