"""Conditional autoencoders and VAEs (config.model.conditioning): the side input reaches
encoder and decoder, the contract's hooks are declared, the train step binds the
batch's labels, and unconditional models are unchanged."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from flax import nnx

from aelab.core.contract import (
    LatentVariableModel,
    Model,
    bind_condition,
    condition_of,
    is_conditional_model,
    is_latent_variable_model,
)
from aelab.models import build_model
from aelab.models.conditional import FiLM
from aelab.objectives import build_likelihood, build_objective
from tests.training.train_steps import jitted_train_step

SHAPE = (8, 8, 1)
TINY = {"dense": {"hidden_dims": (16,)}, "conv": {"channels": (4, 8)}}
# Compiling the conv cases takes seconds each on CPU: they run in the slow tier.
CASES = [
    (f, v, c) if f == "dense" else pytest.param(f, v, c, marks=pytest.mark.slow)
    for f in ("dense", "conv")
    for v in ("ae", "vae")
    for c in ("concat", "film")
]


def _model(family, variant, conditioning, **fields):
    config = ml_collections.ConfigDict(
        {
            "name": f"{family}_{variant}",
            "latent_dim": 3,
            "conditioning": conditioning,
            "condition_dim": 4,
            **TINY[family],
            **fields,
        }
    )
    return build_model(config, SHAPE, rngs=nnx.Rngs(0))


def _randomise_films(model):
    """FiLM layers start as the identity; give them random weights so c matters."""
    key = jax.random.key(7)
    for _, module in nnx.iter_graph(model):
        if isinstance(module, FiLM):
            key, sub = jax.random.split(key)
            kernel = module.linear.kernel
            kernel[...] = jax.random.normal(sub, kernel[...].shape)


def _inputs():
    return jnp.asarray(np.random.default_rng(0).random((6, *SHAPE)), jnp.float32)


@pytest.mark.parametrize(("family", "variant", "conditioning"), CASES)
def test_the_condition_changes_the_code_and_the_decoding(family, variant, conditioning):
    model = _model(family, variant, conditioning)
    assert is_conditional_model(model) and model.condition_dim == 4
    _randomise_films(model)
    x = _inputs()
    first = jax.nn.one_hot(jnp.zeros(6, jnp.int32), 4)
    second = jax.nn.one_hot(jnp.full(6, 3), 4)
    a, b = model.conditioned(first), model.conditioned(second)
    assert isinstance(a, Model) and not is_conditional_model(a)
    assert is_latent_variable_model(a) == (variant == "vae")
    out_a, out_b = a(x), b(x)
    assert out_a.decoded.shape == (6, *SHAPE)
    assert not np.allclose(out_a.code, out_b.code)
    z = jnp.ones((6, 3))
    assert not np.allclose(a.decode(z), b.decode(z))
    # The view calls the model's own networks: the same condition gives the same output.
    np.testing.assert_array_equal(a.decode(z), model.decode(z, condition=first))


def test_a_conditional_vae_declares_the_latent_variable_hooks():
    model = _model("dense", "vae", "concat")
    view = model.conditioned(jax.nn.one_hot(jnp.arange(6) % 4, 4))
    assert isinstance(view, LatentVariableModel)
    x = _inputs()
    log_w = view.log_importance_weights(
        x, build_likelihood("bernoulli"), rngs=nnx.Rngs(1), num_samples=3
    )
    assert log_w.shape == (3, 6) and np.all(np.isfinite(log_w))
    assert view.kl_terms(view(x, rngs=nnx.Rngs(2))).shape == (6, 3)
    assert view.sample_prior(nnx.Rngs(3), 5).shape == (5, 3)


def test_without_a_condition_a_conditional_network_says_so():
    model = _model("dense", "ae", "concat")
    with pytest.raises(ValueError, match="without a condition"):
        model(_inputs())


def test_unconditional_models_are_unchanged():
    model = _model("dense", "vae", "none")
    assert not is_conditional_model(model)
    assert bind_condition(model, {"inputs": _inputs(), "label": jnp.zeros(6, jnp.int32)}) is model


def test_condition_of_reads_labels_or_a_given_vector():
    labels = jnp.array([0, 2, 1])
    np.testing.assert_array_equal(condition_of({"label": labels}, 3), np.eye(3)[[0, 2, 1]])
    vector = jnp.ones((3, 5)) * 0.5
    batch = {"label": labels, "condition": vector}
    np.testing.assert_array_equal(condition_of(batch, 5), vector)
    with pytest.raises(ValueError, match="batch\\['label'\\]"):
        condition_of({"inputs": jnp.zeros((3, 2))}, 3)
    with pytest.raises(ValueError, match="condition_dim=4"):
        condition_of({"condition": vector}, 4)


def test_models_without_a_side_input_refuse_conditioning():
    with pytest.raises(ValueError, match="conditioning='none'"):
        _model("dense", "vqvae", "concat", code_dim=1, codebook_size=4)
    with pytest.raises(ValueError, match="vamp"):
        _model("dense", "vae", "film", prior="vamp", prior_components=2)


@pytest.mark.slow
def test_the_train_step_binds_the_batch_labels_and_learns():
    """A conditional VAE whose images are a function of the label alone: trained through
    make_train_step (which must hand it the labels), its loss falls."""
    model = _model("dense", "vae", "film")
    labels = jnp.arange(16) % 4
    images = jnp.broadcast_to(
        (jnp.arange(64).reshape(1, 8, 8, 1) % (labels[:, None, None, None] + 2) == 0), (16, *SHAPE)
    ).astype(jnp.float32)
    batch = {"inputs": images, "label": labels}
    objective = build_objective(ml_collections.ConfigDict({"name": "elbo"}))
    step, state = jitted_train_step(model, objective)
    losses = []
    for _ in range(40):
        state, metrics = step(state, batch)
        losses.append(float(metrics["loss"]))
    assert np.all(np.isfinite(losses))
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5]), losses
    with pytest.raises(ValueError, match="batch\\['label'\\]"):
        step(state, {"inputs": images})
