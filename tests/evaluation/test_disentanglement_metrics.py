"""Disentanglement metrics against known answers: a code that is a permutation and
scaling of the factors, a random code, and a code that mixes two factors."""

import numpy as np
import pytest

from aelab.evaluation import disentanglement_metrics as dm

SIZES = (3, 4, 5)
PERMUTATION = [2, 0, 1]
SCALES = np.array([0.5, -2.0, 3.0])


def _factors(n, seed):
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(0, size, n) for size in SIZES], axis=1)


def aligned(factors):
    """A perfect code: each dimension one factor, scaled and shifted."""
    return factors[:, PERMUTATION] * SCALES + 1.0


def entangled(factors):
    """The first two factors mixed into two dimensions, the third kept apart."""
    return np.stack(
        [factors[:, 0] + factors[:, 1], factors[:, 0] - factors[:, 1], factors[:, 2]], 1
    )


def random_code(factors, seed=7):
    return np.random.default_rng([seed, len(factors)]).standard_normal((len(factors), 3))


@pytest.fixture(scope="module")
def data():
    train, test = _factors(800, 0), _factors(400, 1)
    return {
        name: (code(train), train, code(test), test)
        for name, code in [("aligned", aligned), ("entangled", entangled), ("random", random_code)]
    }


def test_mig_is_one_for_aligned_codes_zero_for_random_and_lower_for_entangled(data):
    scores = {name: dm.mig(codes, factors) for name, (codes, factors, _, _) in data.items()}
    assert scores["aligned"] > 0.95
    assert scores["random"] < 0.05
    assert scores["entangled"] < scores["aligned"] - 0.3


def test_sap_separates_aligned_from_random_codes(data):
    scores = {name: dm.sap(*arrays) for name, arrays in data.items()}
    # disentanglement_lib's one-vs-rest LinearSVC on one dimension rarely predicts the
    # middle classes, and the second best dimension scores chance (1/3 .. 1/5).
    assert scores["aligned"] > 0.4
    assert scores["entangled"] < scores["aligned"] - 0.2
    assert abs(scores["random"]) < 0.1


def test_dci_is_high_for_aligned_codes_and_lower_for_entangled_and_random(data):
    scores = {name: dm.dci(*arrays) for name, arrays in data.items()}
    aligned_scores = scores["aligned"]
    assert aligned_scores["dci_disentanglement"] > 0.9
    assert aligned_scores["dci_completeness"] > 0.9
    assert aligned_scores["dci_informativeness"] > 0.99
    assert scores["entangled"]["dci_disentanglement"] < aligned_scores["dci_disentanglement"] - 0.2
    assert scores["random"]["dci_disentanglement"] < 0.3
    # Chance accuracy of three balanced factors is about (1/3 + 1/4 + 1/5) / 3 = 0.26.
    assert scores["random"]["dci_informativeness"] < 0.4


def test_modularity_is_one_for_aligned_codes_and_lower_for_random(data):
    scores = {name: dm.modularity(codes, factors) for name, (codes, factors, _, _) in data.items()}
    assert scores["aligned"] > 0.95
    # Sampling noise in the mutual information keeps random codes well above 0 (~0.7).
    assert scores["random"] < scores["aligned"] - 0.2
    assert scores["entangled"] < scores["aligned"] - 0.05


def test_explicitness_is_one_for_aligned_codes_and_one_half_for_random(data):
    assert dm.explicitness(*data["aligned"]) > 0.95
    assert abs(dm.explicitness(*data["random"]) - 0.5) < 0.06


def test_beta_vae_and_factor_vae_scores_are_one_for_aligned_codes_and_chance_for_random():
    def noise(factors):
        return random_code(factors, seed=int(factors.sum()))

    for score in (dm.beta_vae_score, dm.factor_vae_score):
        kwargs = {"batch_size": 16, "num_train": 200, "num_eval": 100}
        if score is dm.factor_vae_score:
            kwargs["num_variance_estimate"] = 500
        good = score(aligned, SIZES, np.random.default_rng(0), **kwargs)
        bad = score(noise, SIZES, np.random.default_rng(0), **kwargs)
        assert good == 1.0, score.__name__
        assert bad < 0.55, (score.__name__, bad)  # chance: 1/3


def test_factor_vae_score_is_zero_without_a_varying_dimension():
    def constant(factors):
        return np.zeros((len(factors), 3))

    assert dm.factor_vae_score(constant, SIZES, np.random.default_rng(0), num_train=5) == 0.0


def test_active_units_counts_the_dimensions_that_vary():
    codes = np.random.default_rng(0).standard_normal((500, 4)) * [1.0, 0.0, 0.01, 0.5]
    assert dm.active_units(codes) == 2


def test_discretize_uses_equal_width_bins():
    codes = np.array([[0.0], [0.49], [0.51], [1.0]])
    np.testing.assert_array_equal(dm.discretize(codes, bins=2)[:, 0], [1, 1, 2, 2])
