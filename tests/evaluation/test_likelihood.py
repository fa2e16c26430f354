"""The importance-sampled NLL against a model whose marginal likelihood is closed-form."""

import jax
import numpy as np
import pytest

from aelab.evaluation.likelihood import active_units, importance_sampled_log_likelihood
from aelab.objectives import build_likelihood
from aelab.training.state import split_model
from tests.evaluation.linear_gaussian import LinearGaussianProblem


def _estimate(problem, x, **kwargs):
    graphdef, params, model_state = split_model(problem.model)
    return importance_sampled_log_likelihood(
        graphdef,
        params,
        model_state,
        build_likelihood("gaussian", scale=problem.sigma),
        x,
        key=jax.random.PRNGKey(0),
        **kwargs,
    )


def test_exact_posterior_gives_the_exact_log_likelihood_for_any_k():
    # With q = the true posterior every importance weight equals p(x): no variance.
    problem = LinearGaussianProblem()
    x = problem.sample(30)
    # 7 samples in chunks of 3: the last chunk's surplus sample must not count.
    estimate = _estimate(problem, x, num_samples=7, samples_per_chunk=3, batch_size=8)
    np.testing.assert_allclose(estimate.log_likelihood, problem.log_marginal(x), atol=2e-3)
    np.testing.assert_allclose(estimate.elbo, problem.log_marginal(x), atol=2e-3)


def test_inexact_posterior_converges_within_0_05_nats_with_5000_samples():
    problem = LinearGaussianProblem(mean_shift=0.3, log_var_offset=0.5, seed=1)
    x = problem.sample(40)
    exact = problem.log_marginal(x)
    estimate = _estimate(problem, x, num_samples=5000, batch_size=20)
    assert abs(np.mean(estimate.log_likelihood) - np.mean(exact)) < 0.05
    np.testing.assert_allclose(estimate.log_likelihood, exact, atol=0.1)
    # The ELBO is a strictly looser bound when q is not the posterior.
    assert np.mean(estimate.elbo) < np.mean(exact) - 0.1


def test_more_samples_tighten_the_bound():
    problem = LinearGaussianProblem(mean_shift=0.5, log_var_offset=-0.5, seed=2)
    x = problem.sample(40)
    bounds = [np.mean(_estimate(problem, x, num_samples=k).log_likelihood) for k in (1, 300)]
    assert bounds[0] < bounds[1] - 0.1
    assert bounds[1] <= np.mean(problem.log_marginal(x)) + 0.02


def test_result_does_not_depend_on_examples_per_call():
    problem = LinearGaussianProblem(mean_shift=0.3, seed=3)
    x = problem.sample(25)
    a = _estimate(problem, x, num_samples=20, batch_size=5, examples_per_call=5)
    b = _estimate(problem, x, num_samples=20, batch_size=5, examples_per_call=100)
    np.testing.assert_allclose(a.log_likelihood, b.log_likelihood, rtol=1e-6)


def test_non_finite_weights_raise_a_clear_error():
    problem = LinearGaussianProblem()
    x = problem.sample(4)
    x[1, 0] = np.nan
    with pytest.raises(FloatingPointError, match="not finite for 1 of 4"):
        _estimate(problem, x, num_samples=3)


def test_active_units_counts_dimensions_whose_posterior_mean_varies():
    rng = np.random.default_rng(0)
    means = np.stack(
        [rng.normal(0, 1.0, 1000), rng.normal(0, 0.05, 1000), rng.normal(0, 0.2, 1000)], axis=1
    )
    # Variances about 1, 0.0025 and 0.04 against the threshold 0.01.
    assert active_units(means) == 2
    assert active_units(means, threshold=0.001) == 3
