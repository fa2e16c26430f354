"""The rate_distortion objective: loss = bits per pixel + lambda 255^2 MSE, the rate
from the model's own entropy model; other likelihoods and models are refused."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from flax import nnx

from aelab.core.errors import ConfigError
from aelab.evaluation.image_quality import ms_ssim as reported_ms_ssim
from aelab.models import build_model
from aelab.objectives import build_objective
from aelab.objectives.structural_similarity import ms_ssim


def _codec(name="factorized_prior"):
    # Dense transforms: these tests call the model eagerly, op by op (a conv is slow so).
    config = ml_collections.ConfigDict(
        {"name": name, "transform": "dense", "channels": (8,), "latent_dim": 4, "hyper_channels": 4}
    )
    return build_model(config, (8, 8, 1), rngs=nnx.Rngs(0))


@pytest.mark.parametrize("name", ["factorized_prior", "scale_hyperprior"])
def test_loss_is_rate_plus_lambda_times_distortion(name):
    objective = build_objective(
        ml_collections.ConfigDict({"name": "rate_distortion", "likelihood": "mse", "lmbda": 0.02})
    )
    model = _codec(name)
    x = jnp.asarray(np.random.default_rng(0).random((4, 8, 8, 1)), jnp.float32)
    loss, metrics = objective(model, {"inputs": x}, rngs=None, train=False)
    output = model(x, train=False)
    bits = np.asarray(model.rate_bits(output))
    mse = np.mean((np.asarray(output.decoded) - np.asarray(x)) ** 2)
    assert np.isclose(metrics["bits"], bits.mean(), rtol=1e-5)
    assert np.isclose(metrics["bpp"], bits.mean() / 64, rtol=1e-5)
    assert np.isclose(loss, bits.mean() / 64 + 0.02 * 255**2 * mse, rtol=1e-5)
    # In evaluation the code is rounded; in training it carries uniform noise.
    assert np.array_equal(output.code, np.round(output.code))
    noisy = model(x, train=True, rngs=nnx.Rngs(sample=1)).code
    assert not np.array_equal(noisy, np.round(noisy))
    assert np.all(np.abs(noisy - output.encoding.mean) <= 0.5 + 1e-6)


def test_other_likelihoods_and_models_are_refused():
    with pytest.raises(
        ConfigError,
        match=r"likelihood='bernoulli' is not valid .* set "
        r"config.objective.likelihood='mse'",
    ):
        build_objective(ml_collections.ConfigDict({"name": "rate_distortion"}))
    objective = build_objective(
        ml_collections.ConfigDict({"name": "rate_distortion", "likelihood": "mse"})
    )
    vae = build_model(
        ml_collections.ConfigDict({"name": "dense_vae", "hidden_dims": (8,), "latent_dim": 2}),
        (8, 8, 1),
        rngs=nnx.Rngs(0),
    )
    with pytest.raises(ValueError, match="needs a compressive model"):
        objective(vae, {"inputs": jnp.zeros((2, 8, 8, 1))}, rngs=None, train=False)


def test_the_training_ms_ssim_is_the_evaluation_ms_ssim_and_has_gradients():
    rng = np.random.default_rng(0)
    clean = rng.random((3, 28, 28, 1)).astype(np.float32)
    noisy = np.clip(clean + 0.2 * rng.standard_normal(clean.shape), 0, 1).astype(np.float32)
    fast_ms_ssim = jax.jit(ms_ssim)
    ours = np.asarray(fast_ms_ssim(jnp.asarray(noisy), jnp.asarray(clean)))
    assert np.allclose(ours, reported_ms_ssim(noisy, clean), atol=2e-5)
    assert np.allclose(np.asarray(fast_ms_ssim(jnp.asarray(clean), jnp.asarray(clean))), 1.0)
    gradient = jax.jit(jax.grad(lambda x: ms_ssim(x, jnp.asarray(clean)).sum()))(jnp.asarray(noisy))
    assert np.all(np.isfinite(gradient)) and np.abs(gradient).max() > 0
    objective = build_objective(
        ml_collections.ConfigDict(
            {"name": "rate_distortion", "likelihood": "mse", "distortion": "ms_ssim", "lmbda": 10.0}
        )
    )
    model = _codec()
    x = jnp.asarray(rng.random((2, 8, 8, 1)), jnp.float32)
    loss, metrics = objective(model, {"inputs": x}, rngs=None, train=False)
    assert np.isclose(loss, metrics["bpp"] + 10.0 * (1 - metrics["ms_ssim"]), rtol=1e-5)
