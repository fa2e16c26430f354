"""The ELBO averaged over k posterior samples (the IWAE paper's "VAE with k samples")."""

import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from flax import nnx

from aelab.core.errors import ConfigError
from aelab.objectives import build_likelihood, build_objective
from aelab.objectives.elbo import ElboObjective
from tests.evaluation.linear_gaussian import LinearGaussianProblem


def _elbo(problem, x, num_samples, seed=0):
    objective = ElboObjective(
        build_likelihood("gaussian", scale=problem.sigma), num_samples=num_samples
    )
    _, metrics = objective(
        problem.model, {"inputs": jnp.asarray(x)}, rngs=nnx.Rngs(seed), train=False
    )
    return float(metrics["elbo"])


def test_many_samples_estimate_the_elbo_of_the_exact_posterior():
    # With q = p(z | x), the ELBO equals log p(x).
    problem = LinearGaussianProblem()
    x = problem.sample(50)
    assert _elbo(problem, x, 2000) == pytest.approx(np.mean(problem.log_marginal(x)), abs=0.02)


def test_more_samples_lower_the_variance():
    problem = LinearGaussianProblem(mean_shift=0.2, seed=1)
    x = problem.sample(5)
    one = np.std([_elbo(problem, x, 1, seed) for seed in range(15)])
    many = np.std([_elbo(problem, x, 50, seed) for seed in range(15)])
    assert many < one / 3


def test_num_samples_must_be_positive():
    with pytest.raises(ConfigError, match=r"config.objective.num_samples=0 is not valid"):
        build_objective(ml_collections.ConfigDict({"name": "elbo", "num_samples": 0}))


def test_one_sample_keeps_the_single_sample_path():
    problem = LinearGaussianProblem(seed=2)
    x = jnp.asarray(problem.sample(4))
    objective = ElboObjective(build_likelihood("gaussian", scale=problem.sigma))
    _, metrics = objective(problem.model, {"inputs": x}, rngs=nnx.Rngs(3), train=False)
    output = problem.model(x, rngs=nnx.Rngs(3))
    nll = -build_likelihood("gaussian", scale=problem.sigma).log_prob(output.decoded, x)
    np.testing.assert_allclose(metrics["reconstruction_nll"], jnp.mean(nll), rtol=1e-6)
