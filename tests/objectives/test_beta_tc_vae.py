"""beta-TC-VAE: the KL decomposition against closed forms on Gaussian aggregate
posteriors, both estimators of log q(z), and the objective against its definition."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from flax import nnx

from aelab.core.distributions import gaussian_log_density, standard_normal_log_density
from aelab.core.errors import ConfigError
from aelab.models import build_model
from aelab.objectives import build_objective
from aelab.objectives.total_correlation import kl_decomposition, log_mixture_weights

_NOISE_VAR = 0.2  # every posterior's variance; the means carry the remaining 0.8


def _posteriors(mean_factor, size=2000, seed=0):
    """Posteriors N(m_n, 0.2 I) with m_n = mean_factor @ g_n, g_n ~ N(0, I), and one sample
    of each: the aggregate posterior is N(0, mean_factor mean_factor^T + 0.2 I)."""
    key_m, key_z = jax.random.split(jax.random.PRNGKey(seed))
    d, k = mean_factor.shape
    mean = jax.random.normal(key_m, (size, k)) @ jnp.asarray(mean_factor, jnp.float32).T
    log_var = jnp.full((size, d), np.log(_NOISE_VAR), jnp.float32)
    z = mean + np.sqrt(_NOISE_VAR) * jax.random.normal(key_z, (size, d))
    return z, mean, log_var


def _closed_form(mean_factor):
    """(MI, TC, DWKL) of that Gaussian mixture, whose marginals are N(0, 1)."""
    d = mean_factor.shape[0]
    aggregate = mean_factor @ mean_factor.T + _NOISE_VAR * np.eye(d)
    log_det = np.linalg.slogdet(aggregate)[1]
    return 0.5 * (log_det - d * np.log(_NOISE_VAR)), -0.5 * log_det, 0.0


def _means(parts):
    return tuple(float(parts[name].mean()) for name in _TERMS)


_TERMS = ("mutual_information", "total_correlation", "dimension_wise_kl")
_decompose = jax.jit(kl_decomposition, static_argnames=("estimator", "dataset_size"))
_ESTIMATORS = [("mws", None), ("mss", 10**7)]  # mss: N much larger than the batch


@pytest.mark.parametrize("estimator, dataset_size", _ESTIMATORS)
def test_independent_codes_have_about_zero_total_correlation(estimator, dataset_size):
    mean_factor = np.sqrt(0.8) * np.eye(3)
    z, mean, log_var = _posteriors(mean_factor)
    parts = _decompose(
        z, mean, log_var, jnp.ones(len(z)), estimator=estimator, dataset_size=dataset_size
    )
    np.testing.assert_allclose(_means(parts), _closed_form(mean_factor), atol=0.04)
    assert abs(_means(parts)[1]) < 0.03


@pytest.mark.parametrize("estimator, dataset_size", _ESTIMATORS)
def test_correlated_codes_have_their_total_correlation(estimator, dataset_size):
    mean_factor = np.full((3, 1), np.sqrt(0.8))  # the three means are one and the same
    z, mean, log_var = _posteriors(mean_factor)
    parts = _decompose(
        z, mean, log_var, jnp.ones(len(z)), estimator=estimator, dataset_size=dataset_size
    )
    mi, tc, dwkl = _closed_form(mean_factor)
    assert tc > 1.0
    np.testing.assert_allclose(_means(parts), (mi, tc, dwkl), atol=0.06)


def test_both_estimators_agree_on_large_batches():
    z, mean, log_var = _posteriors(np.array([[0.8, 0.3], [0.3, 0.8]]))
    weights = jnp.ones(len(z))
    mws = _decompose(z, mean, log_var, weights, estimator="mws")
    mss = _decompose(z, mean, log_var, weights, estimator="mss", dataset_size=60_000)
    np.testing.assert_allclose(_means(mws), _means(mss), atol=0.02)


@pytest.mark.parametrize("estimator, dataset_size", [("mws", None), ("mss", 7)])
def test_the_terms_sum_to_the_one_sample_kl_estimate(estimator, dataset_size):
    keys = jax.random.split(jax.random.PRNGKey(3), 3)
    z, mean = jax.random.normal(keys[0], (6, 4)), jax.random.normal(keys[1], (6, 4))
    log_var = 0.5 * jax.random.normal(keys[2], (6, 4))
    parts = _decompose(
        z, mean, log_var, jnp.ones(6), estimator=estimator, dataset_size=dataset_size
    )
    one_sample_kl = gaussian_log_density(z, mean, log_var) - standard_normal_log_density(z)
    np.testing.assert_allclose(sum(parts[n] for n in _TERMS), one_sample_kl, rtol=1e-5, atol=1e-5)


def test_stratified_weights_are_the_papers():
    n, m = 10.0, 4
    weights = np.exp(log_mixture_weights(jnp.ones(m), estimator="mss", dataset_size=10))
    expected = np.full((m, m), 1 / (m - 1))
    np.fill_diagonal(expected, 1 / n)
    for i in range(m):
        expected[i, (i + 1) % m] = (n - m + 1) / (n * (m - 1))
    np.testing.assert_allclose(weights, expected, rtol=1e-6)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-6)
    mws = np.exp(log_mixture_weights(jnp.ones(m), estimator="mws"))
    np.testing.assert_allclose(mws, 1 / m, rtol=1e-6)


@pytest.mark.parametrize("estimator", ["mws", "mss"])
def test_padding_takes_no_part(estimator):
    keys = jax.random.split(jax.random.PRNGKey(4), 3)
    z, mean = jax.random.normal(keys[0], (7, 3)), jax.random.normal(keys[1], (7, 3))
    log_var = 0.3 * jax.random.normal(keys[2], (7, 3))
    mask = jnp.array([1, 1, 1, 1, 1, 0, 0.0])
    padded = _decompose(z, mean, log_var, mask, estimator=estimator, dataset_size=50)
    real = _decompose(
        z[:5], mean[:5], log_var[:5], jnp.ones(5), estimator=estimator, dataset_size=50
    )
    for name in _TERMS:
        np.testing.assert_allclose(padded[name][:5], real[name], rtol=1e-5, atol=1e-6)
        assert np.all(np.isfinite(padded[name]))


# ------------------------------------------------------------------- the objective


def _objective(**fields):
    return build_objective(
        ml_collections.ConfigDict({"name": "beta_tc_vae", "likelihood": "bernoulli", **fields})
    )


def _vae(name="dense_vae", **fields):
    config = ml_collections.ConfigDict(
        {"name": name, "hidden_dims": (8,), "latent_dim": 3, **fields}
    )
    return build_model(config, (6,), rngs=nnx.Rngs(0))


def _binary(shape, seed=1):
    return jax.random.bernoulli(jax.random.PRNGKey(seed), 0.5, shape).astype(jnp.float32)


def test_unit_weights_give_the_one_sample_negative_elbo():
    objective = _objective(alpha=1.0, beta=1.0, gamma=1.0)
    graphdef, state = nnx.split(_vae())
    batch = {"inputs": _binary((8, 6))}

    def losses(key):
        loss, metrics = objective(
            nnx.merge(graphdef, state), batch, rngs=nnx.Rngs(key), train=False
        )
        kl_parts = sum(metrics[name] for name in _TERMS)
        return loss, metrics["reconstruction_nll"] + kl_parts, -metrics["elbo"]

    keys = jax.random.split(jax.random.PRNGKey(0), 400)
    loss, nll_plus_parts, negative_elbo = jax.jit(jax.vmap(losses))(keys)
    # Exactly: the reconstruction term plus the one-sample KL estimate.
    np.testing.assert_allclose(loss, nll_plus_parts, rtol=1e-5)
    # In expectation over the posterior samples: the plain -ELBO (analytic KL).
    difference = np.asarray(loss - negative_elbo)
    stderr = difference.std() / np.sqrt(len(difference))
    assert abs(difference.mean()) < 4 * stderr, (difference.mean(), stderr)
    assert stderr > 0  # the one-sample estimate does vary


def test_beta_weighs_the_total_correlation_alone():
    model, batch = _vae(), {"inputs": _binary((8, 6))}
    loss_1, metrics = _objective(beta=1.0)(model, batch, rngs=nnx.Rngs(2), train=False)
    loss_6, metrics_6 = _objective(beta=6.0)(model, batch, rngs=nnx.Rngs(2), train=False)
    np.testing.assert_allclose(loss_6 - loss_1, 5.0 * metrics["total_correlation"], rtol=1e-4)
    np.testing.assert_allclose(metrics_6["elbo"], metrics["elbo"], rtol=1e-6)


def test_the_stratified_estimator_needs_the_data_set_size():
    with pytest.raises(ConfigError, match=r"config.objective.dataset_size=None .*'mss'"):
        _objective(estimator="mss")
    with pytest.raises(ConfigError, match=r"config.objective.dataset_size=0 is not valid"):
        _objective(estimator="mss", dataset_size=0)
    objective = _objective(estimator="mss", dataset_size=5)
    with pytest.raises(ValueError, match=r"dataset_size=5 .*batch of 8.*at least 7"):
        objective(_vae(), {"inputs": _binary((8, 6))}, rngs=nnx.Rngs(0), train=False)


@pytest.mark.slow
def test_a_hierarchical_vae_is_refused():
    model = _vae("dense_2layer_vae", top_hidden_dims=(4,), top_latent_dim=2)
    with pytest.raises(ValueError, match="one Gaussian latent"):
        _objective()(model, {"inputs": _binary((4, 6))}, rngs=nnx.Rngs(0), train=False)


def test_bfloat16_codes_are_decomposed_in_float32():
    z, mean, log_var = _posteriors(np.sqrt(0.8) * np.eye(2), size=64)
    low = [a.astype(jnp.bfloat16).astype(jnp.float32) for a in (z, mean, log_var)]
    expected = _decompose(*low, jnp.ones(64), estimator="mws")
    got = _decompose(*(a.astype(jnp.bfloat16) for a in (z, mean, log_var)), jnp.ones(64))
    for name in _TERMS:
        assert got[name].dtype == jnp.float32
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-5, atol=1e-5)
