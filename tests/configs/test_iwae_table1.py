"""The IWAE paper's protocol and its CPU budgets, as configs."""

import math

import pytest

from aelab.objectives import build_objective
from tests.conftest import load_config

NAME = "iwae_table1/mlp_1layer"


def test_full_protocol_matches_the_paper():
    config = load_config(NAME, "objective=vae,k=1,budget=full")
    assert config.data.batch_size == 20 and config.data.binarize == "dynamic"
    assert tuple(config.model.hidden_dims) == (200, 200) and config.model.latent_dim == 50
    assert config.model.activation == "tanh"
    assert (config.optimizer.b1, config.optimizer.b2, config.optimizer.eps) == (0.9, 0.999, 1e-4)
    rates = config.optimizer.learning_rates
    assert len(rates) == 8
    for i, rate in enumerate(rates):
        assert rate == pytest.approx(1e-3 * 10 ** (-i / 7))
    # Stage i lasts 3^(i-1) epochs of 3,000 steps: 3,280 epochs in all.
    ends = [*config.optimizer.boundaries, config.train.num_steps]
    starts = [0, *ends[:-1]]
    assert [(e - s) // 3000 for s, e in zip(starts, ends, strict=True)] == [3**i for i in range(8)]
    assert config.train.num_steps == 3280 * 3000
    assert config.evals.likelihood.num_samples == 5000


@pytest.mark.parametrize(("objective", "k", "name"), [("vae", 5, "elbo"), ("iwae", 50, "iwae")])
def test_objective_and_samples(objective, k, name):
    config = load_config(NAME, f"objective={objective},k={k}")
    assert config.objective.name == name and config.objective.num_samples == k
    if name == "elbo":
        assert build_objective(config.objective).num_samples == k


def test_budgets_shorten_the_schedule_into_equal_stages():
    config = load_config(NAME, "budget=80epochs")
    assert config.data.batch_size == 100 and config.train.num_steps == 80 * 600
    ends = [*config.optimizer.boundaries, config.train.num_steps]
    assert ends == [6000 * (i + 1) for i in range(8)]
    minutes = load_config(NAME, "budget=20min")
    assert minutes.train.num_steps > 0 and minutes.train.num_steps % 600 == 0
    # A step with k samples costs about (1 + k) / 2 steps with one: fewer epochs in 20 min.
    k50 = load_config(NAME, "objective=iwae,k=50,budget=20min")
    assert k50.train.num_steps == pytest.approx(minutes.train.num_steps * 2 / 51, rel=0.1)
    assert math.isclose(load_config(NAME, "smoke").train.num_steps, 20)


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        ("budget=fast", "budget='fast' is not valid"),
        ("objective=wake", "objective='wake' is not valid"),
        ("k=five", "expected a int"),
        ("samples=5", "keys objective, k, budget"),
    ],
)
def test_bad_arguments_are_explained(arg, message):
    with pytest.raises(ValueError, match=message):
        load_config(NAME, arg)
