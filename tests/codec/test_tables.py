"""The entropy coder's integer tables: exact totals, no zero counts, the right shapes."""

import constriction
import numpy as np
from scipy.special import expit, logit, ndtr

from aelab.codec.tables import (
    PRECISION,
    TAIL_MASS,
    factorized_tables,
    gaussian_tables,
    quantize_probabilities,
    scale_table,
)


def test_quantized_probabilities_sum_exactly_and_keep_every_symbol():
    rng = np.random.default_rng(0)
    for size in (1, 2, 7, 300, 5000):
        pmf = rng.dirichlet(np.full(size, 0.05))
        if size > 1:
            pmf[rng.integers(size)] = 0.0  # a symbol of probability 0 still gets a count
            pmf /= pmf.sum()
        frequencies = quantize_probabilities(pmf)
        assert frequencies.sum() == 2**PRECISION and frequencies.min() >= 1
        # Close to the target where it can be: within one count plus the floor of 1.
        assert np.all(np.abs(frequencies - pmf * 2**PRECISION) <= size + 1)
    assert np.array_equal(quantize_probabilities(pmf), quantize_probabilities(pmf.copy()))


def test_factorized_tables_of_a_logistic_density_match_its_bin_masses():
    # Two channels: logistic densities of scale 1 and 3, centred at 0 and 10.
    centres, scales = np.array([0.0, 10.0]), np.array([1.0, 3.0])

    def logits_cdf(values):
        return (values - centres) / scales

    tables = factorized_tables(logits_cdf, 2)
    for c in range(2):
        length, offset = int(tables.lengths[c]), int(tables.offsets[c])
        values = offset + np.arange(length)
        expected = expit((values + 0.5 - centres[c]) / scales[c]) - expit(
            (values - 0.5 - centres[c]) / scales[c]
        )
        probabilities = tables.probabilities(c)
        assert abs(probabilities.sum() - 1.0) < 1e-12
        middle = slice(1, length - 1)  # the end symbols also hold the tails
        assert np.allclose(probabilities[middle], expected[middle], atol=length / 2**PRECISION)
        # The support covers all but TAIL_MASS: its ends are where the tails reach it.
        low_tail = expit((offset - 0.5 - centres[c]) / scales[c])
        assert low_tail <= TAIL_MASS
        assert logit(1 - TAIL_MASS) * scales[c] + centres[c] <= offset + length + 0.5
    symbols = tables.symbols(np.array([-1000, 0, 1000]), np.array([0, 0, 0]))
    assert symbols[0] == 0 and symbols[2] == tables.lengths[0] - 1  # clipped into range


def test_gaussian_tables_are_symmetric_and_cover_the_tails():
    scales = scale_table(0.11, 256.0, 64)
    assert np.isclose(scales[0], 0.11) and np.isclose(scales[-1], 256.0)
    tables = gaussian_tables(scales[[0, 20, 63]])
    for t, scale in enumerate(scales[[0, 20, 63]]):
        probabilities = tables.probabilities(t)
        assert int(tables.offsets[t]) == -(int(tables.lengths[t]) // 2)
        assert np.allclose(probabilities, probabilities[::-1], atol=2 / 2**PRECISION)
        assert 2 * ndtr(tables.offsets[t] / scale) < TAIL_MASS  # tail beyond the table


def test_a_density_that_overflows_in_its_far_tails_still_gets_tables():
    # A float32 density network gives NaN (inf - inf) far out in its tails.
    def logits_cdf(values):
        logits = values / 2.0
        return np.where(np.abs(values) > 500, np.nan, logits)

    tables = factorized_tables(logits_cdf, 1)
    assert tables.frequencies.sum() == 2**PRECISION
    assert -60 < tables.offsets[0] < 0 < tables.offsets[0] + tables.lengths[0] < 60


def test_an_unused_channel_gets_a_table_the_coder_accepts():
    def logits_cdf(values):  # all the mass at 0: the latent of a channel the model dropped
        return 1e4 * values

    tables = factorized_tables(logits_cdf, 1)
    assert tables.lengths[0] == 2 and tables.offsets[0] == 0
    constriction.stream.model.Categorical(tables.probabilities(0), perfect=False)
