"""Bjøntegaard deltas against known answers."""

import numpy as np
import pytest

from aelab.evaluation.bd_rate import bd_psnr, bd_rate

METHODS = ["cubic", "pchip"]
QUALITY = np.array([24.0, 27.0, 30.0, 33.0, 36.0, 39.0])
RATE = np.array([200.0, 290.0, 400.0, 560.0, 800.0, 1150.0])  # convex in log, like a codec


@pytest.mark.parametrize("method", METHODS)
def test_identical_curves_differ_by_nothing(method):
    assert bd_rate(RATE, QUALITY, RATE, QUALITY, method=method) == pytest.approx(0, abs=1e-12)
    assert bd_psnr(RATE, QUALITY, RATE, QUALITY, method=method) == pytest.approx(0, abs=1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_half_the_rate_at_every_quality_is_minus_fifty_percent(method):
    assert bd_rate(RATE / 2, QUALITY, RATE, QUALITY, method=method) == pytest.approx(
        -50.0, abs=1e-6
    )
    assert bd_rate(RATE * 2, QUALITY, RATE, QUALITY, method=method) == pytest.approx(
        100.0, abs=1e-6
    )


@pytest.mark.parametrize("method", METHODS)
def test_linear_log_rates_over_partly_overlapping_ranges(method):
    # anchor: ln r = 1 + 0.1 q on [20, 40]; test: ln r = 0.5 + 0.12 q on [25, 45].
    # Over the overlap [25, 40] the difference -0.5 + 0.02 q averages -0.5 + 0.02 * 32.5.
    q_anchor, q_test = np.linspace(20, 40, 6), np.linspace(25, 45, 5)
    r_anchor, r_test = np.exp(1 + 0.1 * q_anchor), np.exp(0.5 + 0.12 * q_test)
    expected = 100 * np.expm1(-0.5 + 0.02 * 32.5)
    assert bd_rate(r_test, q_test, r_anchor, q_anchor, method=method) == pytest.approx(expected)


def test_cubic_fit_is_exact_for_a_quadratic_difference_and_pchip_is_close():
    # ln r_test - ln r_anchor = 1e-4 q^2, whose mean over [20, 40] is 1e-4 * 56000 / 60.
    # Unevenly spaced: on even spacing PCHIP's integral of a quadratic is exact too (the
    # inner slopes cancel in the sum over intervals, and its end slopes fit quadratics).
    q = np.array([20.0, 22.0, 27.0, 31.0, 36.0, 40.0])
    r_anchor = np.exp(2 + 0.05 * q)
    r_test = r_anchor * np.exp(1e-4 * q**2)
    expected = 100 * np.expm1(1e-4 * 56000 / 60)
    assert bd_rate(r_test, q, r_anchor, q, method="cubic") == pytest.approx(expected, rel=1e-9)
    pchip = bd_rate(r_test, q, r_anchor, q, method="pchip")
    assert pchip == pytest.approx(expected, abs=0.01) and pchip != pytest.approx(expected)


@pytest.mark.parametrize("method", METHODS)
def test_swapping_the_curves_inverts_the_rate_ratio_and_order_does_not_matter(method):
    rng = np.random.default_rng(0)
    q_test = np.sort(rng.uniform(22, 40, 7))
    r_test = np.exp(4 + 0.1 * q_test + rng.normal(0, 0.05, 7))
    forward = bd_rate(r_test, q_test, RATE, QUALITY, method=method)
    backward = bd_rate(RATE, QUALITY, r_test, q_test, method=method)
    assert (1 + forward / 100) * (1 + backward / 100) == pytest.approx(1.0)
    order = rng.permutation(7)
    assert bd_rate(r_test[order], q_test[order], RATE, QUALITY, method=method) == pytest.approx(
        forward
    )
    # At equal rate the quality differences of the two orders are exact negatives.
    assert bd_psnr(r_test, q_test, RATE, QUALITY, method=method) == pytest.approx(
        -bd_psnr(RATE, QUALITY, r_test, q_test, method=method)
    )


@pytest.mark.parametrize("method", METHODS)
def test_bd_psnr_of_known_offsets(method):
    assert bd_psnr(RATE, QUALITY + 1.5, RATE, QUALITY, method=method) == pytest.approx(1.5)
    # anchor: q = 10 + 3 ln r for r in [e^3, e^8]; test: q = 9 + 3.5 ln r for r in [e^4, e^9].
    # Over ln r in [4, 8] the difference -1 + 0.5 ln r averages -1 + 0.5 * 6 = 2.
    log_anchor, log_test = np.linspace(3, 8, 6), np.linspace(4, 9, 6)
    difference = bd_psnr(
        np.exp(log_test), 9 + 3.5 * log_test, np.exp(log_anchor), 10 + 3 * log_anchor, method=method
    )
    assert difference == pytest.approx(2.0)


def test_unusable_curves_raise_one_clear_error():
    q = np.array([30.0, 32.0, 34.0, 36.0])
    r = np.array([100.0, 150.0, 220.0, 330.0])
    with pytest.raises(ValueError, match="do not overlap in quality"):
        bd_rate(r, q + 10, r, q)
    with pytest.raises(ValueError, match="do not overlap in rate"):
        bd_psnr(r * 10, q, r, q)
    with pytest.raises(ValueError, match="needs at least 4"):
        bd_rate(r[:3], q[:3], r, q, method="cubic")
    with pytest.raises(ValueError, match="needs at least 2"):
        bd_rate(r[:1], q[:1], r, q)
    with pytest.raises(ValueError, match="non-positive rates"):
        bd_rate(r - 100, q, r, q)
    with pytest.raises(ValueError, match="non-finite"):
        bd_rate(r, np.array([30.0, np.nan, 34.0, 36.0]), r, q)
    with pytest.raises(ValueError, match="4 rates but 3 qualities"):
        bd_rate(r, q[:3], r, q)
    with pytest.raises(ValueError, match="repeated points"):
        bd_rate(r, np.array([30.0, 30.0, 34.0, 36.0]), r, q)
    with pytest.raises(ValueError, match="not one of"):
        bd_rate(r, q, r, q, method="linear")
