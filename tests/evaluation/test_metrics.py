"""Metric functions against scikit-learn, NumPy and known answers."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score, roc_auc_score

from aelab.evaluation.compression import UniformQuantizer, entropy_coded_bits, stored_form
from aelab.evaluation.image_quality import mean_squared_error, per_class_means, psnr, ssim
from aelab.evaluation.imputation import impute, missing_mask
from aelab.evaluation.pca_baseline import pca_reconstruction
from aelab.evaluation.ranking import auroc, average_precision

# Scores drawn from few values, so ties are common.
_scores = st.lists(st.integers(0, 6), min_size=4, max_size=60)


@settings(max_examples=60, deadline=None)
@given(_scores, st.randoms(use_true_random=False))
def test_auroc_and_average_precision_match_scikit_learn(values, random):
    scores = np.asarray(values, float)
    positives = np.array([random.random() < 0.4 for _ in values])
    positives[0], positives[1] = True, False  # both classes present
    assert auroc(scores, positives) == pytest.approx(roc_auc_score(positives, scores))
    assert average_precision(scores, positives) == pytest.approx(
        average_precision_score(positives, scores)
    )


def test_ranking_metrics_reject_one_class_and_nan():
    with pytest.raises(ValueError, match="both positive and negative"):
        auroc(np.array([1.0, 2.0]), np.array([True, True]))
    with pytest.raises(ValueError, match="NaN"):
        average_precision(np.array([1.0, np.nan]), np.array([True, False]))


def test_psnr_of_known_arrays():
    clean = np.zeros((2, 4, 4, 1))
    noisy = clean.copy()
    noisy[0] += 0.1  # MSE 0.01 -> 20 dB
    noisy[1, 0, 0, 0] = 1.0  # MSE 1/16 -> 10 log10(16) dB
    np.testing.assert_allclose(psnr(clean, noisy), [20.0, 10 * np.log10(16)])
    np.testing.assert_allclose(psnr(clean, noisy * 255, data_range=255), [20.0, 10 * np.log10(16)])
    assert psnr(clean, clean)[0] == np.inf
    np.testing.assert_allclose(mean_squared_error(clean, noisy), [0.01, 1 / 16])


def test_ssim_known_answers():
    rng = np.random.default_rng(0)
    images = rng.random((3, 12, 12, 1))
    np.testing.assert_allclose(ssim(images, images), 1.0)
    # Constant images a and b: no structure or contrast term, only luminance.
    a, b = np.full((1, 12, 12, 1), 0.2), np.full((1, 12, 12, 1), 0.7)
    c1 = 0.01**2
    np.testing.assert_allclose(ssim(a, b), (2 * 0.2 * 0.7 + c1) / (0.2**2 + 0.7**2 + c1))


def test_ssim_matches_a_window_by_window_computation():
    rng = np.random.default_rng(1)
    x, y = rng.random((1, 8, 10)), rng.random((1, 8, 10))
    size = 7  # the largest odd window that fits an 8-pixel side
    g = np.exp(-((np.arange(size) - 3) ** 2) / (2 * 1.5**2))
    w = np.outer(g, g) / np.outer(g, g).sum()
    c1, c2 = 0.01**2, 0.03**2
    values = []
    for i in range(8 - size + 1):
        for j in range(10 - size + 1):
            px, py = x[0, i : i + size, j : j + size], y[0, i : i + size, j : j + size]
            mx, my = (w * px).sum(), (w * py).sum()
            vx, vy = (w * px * px).sum() - mx**2, (w * py * py).sum() - my**2
            cov = (w * px * py).sum() - mx * my
            values.append(
                (2 * mx * my + c1) * (2 * cov + c2) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
            )
    np.testing.assert_allclose(ssim(x, y), [np.mean(values)], rtol=1e-10)


def test_per_class_means():
    assert per_class_means(np.array([1.0, 3.0, 5.0]), np.array([0, 0, 2])) == {0: 2.0, 2: 5.0}
    assert per_class_means(np.array([1.0]), None) == {}


def test_pca_error_matches_numpy_svd():
    rng = np.random.default_rng(0)
    train = rng.normal(size=(200, 12)) @ rng.normal(size=(12, 12))
    test = rng.normal(size=(50, 12)) @ rng.normal(size=(12, 12))
    reconstructions, explained = pca_reconstruction(train, test, 4)
    mean = train.mean(axis=0)
    _, singular, vt = np.linalg.svd(train - mean, full_matrices=False)
    basis = vt[:4]
    expected = (test - mean) @ basis.T @ basis + mean
    np.testing.assert_allclose(reconstructions, expected, atol=1e-4)
    np.testing.assert_allclose(explained, (singular[:4] ** 2).sum() / (singular**2).sum())


def test_pca_needs_enough_examples():
    with pytest.raises(ValueError, match="at least that many"):
        pca_reconstruction(np.zeros((3, 10)), np.zeros((2, 10)), 5)


def test_uniform_quantizer_round_trip_error_is_at_most_half_a_step():
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(500, 6))
    quantizer = UniformQuantizer.fit(codes, bits=4)
    symbols = quantizer.symbols(codes)
    assert symbols.min() >= 0 and symbols.max() <= 15
    step = (quantizer.high - quantizer.low) / 15
    assert np.all(np.abs(quantizer.values(symbols) - codes) <= step / 2 + 1e-6)
    with pytest.raises(ValueError, match="bits=0"):
        UniformQuantizer.fit(codes, bits=0)


def test_entropy_coded_bits_of_uniform_and_constant_symbols():
    rng = np.random.default_rng(0)
    uniform = rng.integers(0, 4, size=(40_000, 2))
    # Two dimensions of 4 equally likely symbols: 2 bits each.
    assert entropy_coded_bits(uniform, uniform[:1000], levels=4) == pytest.approx(4.0, abs=0.02)
    constant = np.zeros((1000, 3), np.int64)
    # Add-one smoothing: p(0) = 1001 / 1004 per dimension.
    expected = -3 * np.log2(1001 / 1004)
    assert entropy_coded_bits(constant, constant, levels=4) == pytest.approx(expected)


def test_stored_form_bits_per_value():
    x = np.array([[0.0, 1.0, 1.0, 0.5]], np.float32)
    packed, bits = stored_form(x, binarized=True, scaled=True)
    assert bits == 1 and packed.tolist() == [[0b01100000]]  # 0.5 is not above 0.5
    as_bytes, bits = stored_form(x, binarized=False, scaled=True)
    assert bits == 8 and as_bytes.tolist() == [[0, 255, 255, 128]]
    assert stored_form(x, binarized=False, scaled=False)[1] == 32


def test_missing_masks():
    rng = np.random.default_rng(0)
    random = missing_mask((200, 10, 10, 1), "random", 0.3, rng)
    assert abs(random.mean() - 0.3) < 0.02
    block = missing_mask((50, 20, 1), "block", 0.25, rng)
    rows = block[..., 0]
    assert np.all(rows.sum(axis=1) == 5)
    assert np.all(np.diff(rows.astype(int), axis=1).clip(min=0).sum(axis=1) <= 1)  # contiguous
    with pytest.raises(ValueError, match="mask 'holes'"):
        missing_mask((2, 3), "holes", 0.5, rng)


def test_impute_keeps_observed_values_and_fills_missing_ones():
    inputs = np.arange(12, dtype=np.float32).reshape(3, 4)
    missing = np.zeros_like(inputs, bool)
    missing[:, 1] = True
    fill = np.full(4, -1.0, np.float32)
    # A "model" that returns the row mean: the fill converges to the observed mean.
    filled = impute(
        lambda x: np.repeat(x.mean(axis=1, keepdims=True), 4, 1), inputs, missing, fill, 50
    )
    np.testing.assert_array_equal(filled[:, [0, 2, 3]], inputs[:, [0, 2, 3]])
    np.testing.assert_allclose(filled[:, 1], inputs[:, [0, 2, 3]].mean(axis=1), rtol=1e-5)
