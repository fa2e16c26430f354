"""The annealed-capacity beta-VAE: the capacity schedule, and the loss against its
definition at a given training step."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from flax import nnx

from aelab.core.errors import ConfigError
from aelab.models import build_model
from aelab.objectives import build_objective
from aelab.objectives.annealed_vae import capacity


@pytest.mark.parametrize(
    "step, expected", [(0, 2.0), (250, 4.0), (500, 6.0), (1000, 10.0), (5000, 10.0)]
)
def test_the_capacity_grows_linearly_then_holds(step, expected):
    value = capacity(step, c_min=2.0, c_max=10.0, capacity_steps=1000)
    np.testing.assert_allclose(value, expected, rtol=1e-6)


def test_no_capacity_steps_means_c_max_from_the_start():
    assert float(capacity(0, c_min=0.0, c_max=25.0, capacity_steps=0)) == 25.0


def test_the_capacity_follows_a_traced_step():
    values = jax.jit(jax.vmap(lambda s: capacity(s, c_min=0.0, c_max=8.0, capacity_steps=4)))(
        jnp.arange(6)
    )
    np.testing.assert_allclose(values, [0.0, 2.0, 4.0, 6.0, 8.0, 8.0], rtol=1e-6)


def _objective(**fields):
    return build_objective(
        ml_collections.ConfigDict({"name": "annealed_vae", "likelihood": "bernoulli", **fields})
    )


@pytest.mark.slow
@pytest.mark.parametrize("model_name", ["dense_vae", "dense_2layer_vae"])
def test_the_loss_is_reconstruction_plus_gamma_times_the_kl_gap(model_name):
    objective = _objective(gamma=30.0, c_min=0.0, c_max=10.0, capacity_steps=1000)
    config = ml_collections.ConfigDict(
        {"name": model_name, "hidden_dims": (8,), "latent_dim": 3, "top_hidden_dims": (4,)}
    )
    if model_name == "dense_vae":
        del config["top_hidden_dims"]
    model = build_model(config, (6,), rngs=nnx.Rngs(0))
    x = jax.random.bernoulli(jax.random.PRNGKey(1), 0.5, (8, 6)).astype(jnp.float32)
    output = model(x, rngs=nnx.Rngs(2))
    nll = -objective.likelihood.log_prob(output.decoded, x)
    kl = model.kl_terms(output).sum(axis=-1)
    for step, target in ((0, 0.0), (300, 3.0), (2000, 10.0)):
        loss, metrics = objective(model, {"inputs": x}, rngs=nnx.Rngs(2), train=False, step=step)
        np.testing.assert_allclose(metrics["capacity"], target, rtol=1e-6)
        np.testing.assert_allclose(loss, np.mean(nll + 30.0 * np.abs(kl - target)), rtol=1e-5)
        np.testing.assert_allclose(metrics["kl"], np.mean(kl), rtol=1e-5)


def test_c_max_below_c_min_is_named():
    with pytest.raises(ConfigError, match=r"config.objective.c_max=1.0 is not valid: .*c_min=2.0"):
        _objective(c_min=2.0, c_max=1.0)
