"""Objectives against closed forms and Monte-Carlo estimates."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from flax import nnx

from aelab.core.distributions import (
    gaussian_kl_to_standard_normal,
    gaussian_log_density,
    standard_normal_log_density,
)
from aelab.models import build_model
from aelab.objectives import build_likelihood, build_objective
from aelab.objectives.penalties import l1_penalty, l2_penalty


def test_gaussian_kl_matches_monte_carlo():
    key = jax.random.PRNGKey(0)
    mean = jnp.array([[0.5, -1.0, 2.0]])
    log_var = jnp.array([[-1.0, 0.3, 0.0]])
    z = mean + jnp.exp(0.5 * log_var) * jax.random.normal(key, (200_000, 1, 3))
    monte_carlo = jnp.mean(
        gaussian_log_density(z, mean, log_var) - standard_normal_log_density(z), axis=0
    )
    analytic = gaussian_kl_to_standard_normal(mean, log_var)
    np.testing.assert_allclose(analytic, monte_carlo, rtol=0.01)


def test_kl_is_zero_for_the_prior():
    np.testing.assert_allclose(
        gaussian_kl_to_standard_normal(jnp.zeros((2, 5)), jnp.zeros((2, 5))), 0.0
    )


def test_bernoulli_log_prob_matches_the_definition():
    logits = jnp.array([[-2.0, 0.0, 3.0]])
    x = jnp.array([[0.0, 1.0, 1.0]])
    p = jax.nn.sigmoid(logits)
    expected = jnp.sum(x * jnp.log(p) + (1 - x) * jnp.log(1 - p), axis=-1)
    np.testing.assert_allclose(
        build_likelihood("bernoulli").log_prob(logits, x), expected, rtol=1e-6
    )


def test_bernoulli_is_stable_for_large_logits():
    value = build_likelihood("bernoulli").log_prob(
        jnp.array([[100.0, -100.0]]), jnp.array([[1.0, 0.0]])
    )
    assert np.isfinite(value).all() and abs(float(value[0])) < 1e-30 + 1e-6


@pytest.mark.parametrize("scale", [1.0, 0.1])
def test_gaussian_log_prob_matches_scipy_formula(scale):
    mean = jnp.array([[0.2, -0.5]])
    x = jnp.array([[0.0, 0.5]])
    expected = np.sum(
        -0.5 * ((np.asarray(x) - np.asarray(mean)) / scale) ** 2
        - np.log(scale)
        - 0.5 * np.log(2 * np.pi)
    )
    got = build_likelihood("gaussian", scale=scale).log_prob(mean, x)
    np.testing.assert_allclose(got, [expected], rtol=1e-6)


def test_learned_scale_gaussian_uses_its_second_half_as_log_scale():
    likelihood = build_likelihood("gaussian_learned_scale")
    assert likelihood.output_shape((4, 4, 1)) == (4, 4, 2)
    decoded = jnp.concatenate([jnp.zeros((1, 3, 1)), jnp.full((1, 3, 1), np.log(2.0))], axis=-1)
    x = jnp.ones((1, 3, 1))
    expected = 3 * (-0.5 * (1 / 2.0) ** 2 - np.log(2.0) - 0.5 * np.log(2 * np.pi))
    np.testing.assert_allclose(likelihood.log_prob(decoded, x), [expected], rtol=1e-6)


@pytest.mark.parametrize(
    "name", ["bernoulli", "gaussian", "gaussian_learned_scale", "mse", "discretized_logistic"]
)
def test_likelihoods_score_an_image_as_the_sum_over_its_pixels(name):
    # The per-pixel terms run on [..., H*W*C] rows (likelihoods.flat_data): an image
    # [H, W, C] scores as the same pixels in another arrangement, with a leading sample
    # axis on the decoder's side too, and under grad and vmap.
    likelihood = build_likelihood(name)
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.random((3, 4, 5, 2)), jnp.float32)
    channels = 2 * likelihood.params_per_dim
    decoded = jnp.asarray(rng.normal(size=(6, 3, 4, 5, channels)), jnp.float32)
    got = likelihood.log_prob(decoded, x)  # x broadcasts over the 6 samples
    assert got.shape == (6, 3)
    rows = likelihood.log_prob(decoded.reshape(6, 3, 20, 1, channels), x.reshape(3, 20, 1, 2))
    np.testing.assert_allclose(got, rows, rtol=1e-6)
    one = likelihood.log_prob(decoded[0], x)
    np.testing.assert_allclose(one, got[0], rtol=1e-6)
    if name == "bernoulli":  # against the formula, summed over the image's pixels
        logits, values = np.asarray(decoded[0], np.float64), np.asarray(x, np.float64)
        expected = (values * logits - np.logaddexp(0.0, logits)).sum(axis=(1, 2, 3))
        np.testing.assert_allclose(one, expected, rtol=1e-5)
    grads = jax.grad(lambda d: likelihood.log_prob(d, x).sum())(decoded)
    assert grads.shape == decoded.shape and bool(jnp.all(jnp.isfinite(grads)))
    batched = jax.vmap(lambda d: likelihood.log_prob(d, x))(decoded)
    np.testing.assert_allclose(batched, got, rtol=1e-6)


def test_penalties_cover_kernels_only():
    params = {"kernel": jnp.array([[1.0, -2.0]]), "bias": jnp.array([5.0])}
    assert float(l2_penalty(params)) == pytest.approx(0.5 * 5.0)
    assert float(l1_penalty(params)) == pytest.approx(3.0)


def _tiny_vae():
    config = ml_collections.ConfigDict({"name": "dense_vae", "hidden_dims": (8,), "latent_dim": 2})
    return build_model(config, (6,), rngs=nnx.Rngs(0))


def test_elbo_metrics_are_consistent_and_masked():
    objective = build_objective(
        ml_collections.ConfigDict({"name": "elbo", "likelihood": "bernoulli", "beta": 2.0})
    )
    model = _tiny_vae()
    x = jax.random.bernoulli(jax.random.PRNGKey(1), 0.5, (4, 6)).astype(jnp.float32)
    loss, metrics = objective(model, {"inputs": x}, rngs=nnx.Rngs(3), train=False)
    np.testing.assert_allclose(
        metrics["elbo"], -(metrics["reconstruction_nll"] + metrics["kl"]), rtol=1e-6
    )
    np.testing.assert_allclose(loss, metrics["reconstruction_nll"] + 2.0 * metrics["kl"], rtol=1e-6)
    # Padding rows (mask 0) do not change the means.
    padded = {
        "inputs": jnp.concatenate([x, jnp.zeros((2, 6))]),
        "mask": jnp.array([1, 1, 1, 1, 0, 0.0]),
    }
    _, padded_metrics = objective(model, padded, rngs=nnx.Rngs(3), train=False)
    for name in ("kl", "mse"):
        np.testing.assert_allclose(padded_metrics[name], metrics[name], rtol=1e-5)


def test_weight_penalty_adds_to_the_loss():
    base = {"name": "reconstruction", "likelihood": "mse"}
    plain = build_objective(ml_collections.ConfigDict(base))
    penalised = build_objective(ml_collections.ConfigDict({**base, "l2_weight": 0.1}))
    model = _tiny_vae()
    batch = {"inputs": jnp.ones((2, 6))}
    loss_plain, _ = plain(model, batch, rngs=None, train=False)
    loss_pen, metrics = penalised(model, batch, rngs=None, train=False)
    params = nnx.state(model, nnx.Param)
    np.testing.assert_allclose(loss_pen - loss_plain, 0.1 * l2_penalty(params), rtol=1e-5)
    assert "weight_penalty" in metrics


def test_elbo_refuses_a_deterministic_model():
    objective = build_objective(ml_collections.ConfigDict({"name": "elbo"}))
    config = ml_collections.ConfigDict({"name": "dense_ae", "hidden_dims": (8,), "latent_dim": 2})
    model = build_model(config, (6,), rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="needs a variational model"):
        objective(model, {"inputs": jnp.ones((2, 6))}, rngs=nnx.Rngs(0), train=True)


@pytest.mark.slow
def test_iwae_bound_at_k1_is_the_single_sample_elbo_and_grows_with_k():
    from aelab.objectives.bounds import iwae_bound, log_importance_weights

    model = _tiny_vae()
    likelihood = build_likelihood("bernoulli")
    x = jax.random.bernoulli(jax.random.PRNGKey(1), 0.5, (3, 6)).astype(jnp.float32)
    log_w = log_importance_weights(model, x, likelihood, rngs=nnx.Rngs(5), num_samples=1)
    np.testing.assert_allclose(iwae_bound(log_w), log_w[0], rtol=1e-6)
    # On the same samples, the k-sample bound is >= the mean of single-sample ELBOs.
    log_w = log_importance_weights(model, x, likelihood, rngs=nnx.Rngs(5), num_samples=64)
    assert np.all(np.asarray(iwae_bound(log_w)) >= np.asarray(log_w.mean(axis=0)) - 1e-6)
    # The mean single-sample log weight estimates the analytic-KL ELBO.
    encoding = model.encode(x)
    kl = gaussian_kl_to_standard_normal(encoding.mean, encoding.log_var)
    log_w = log_importance_weights(model, x, likelihood, rngs=nnx.Rngs(6), num_samples=20_000)
    decoded = model.decode(model.sample_posterior(encoding, nnx.Rngs(7), 20_000).reshape(-1, 2))
    recon = likelihood.log_prob(decoded, jnp.tile(x, (20_000, 1))).reshape(20_000, 3).mean(0)
    np.testing.assert_allclose(log_w.mean(axis=0), recon - kl, atol=0.05)
