"""Every registered objective, on a tiny VAE: its options build from their declared
defaults, its loss is a finite scalar with finite gradients, its metrics are per-batch
scalars, and a few optimizer steps lower it on a fixed batch.

A dense VAE suits every objective that takes any model or a latent-variable one (the
reconstruction objectives read its code; the variational ones its posterior); one that
declares `model_kind = "compression"` gets a tiny learned codec, one with "classifier"
a tiny conv classifier (the batch has labels). Each is built with the
first likelihood it declares (`Objective.likelihoods`), so a new objective needs nothing
here but to register.
"""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest
from flax import nnx

from aelab.models import build_model
from aelab.objectives import OBJECTIVES, build_objective, list_objectives
from aelab.training.state import merge_model, split_model

ALL_OBJECTIVES = list_objectives()
_STEPS = 30


@pytest.fixture(scope="module", params=ALL_OBJECTIVES)
def name(request):
    return request.param


def _batch():
    rng = np.random.default_rng(0)
    inputs = (rng.random((16, 8, 8, 1)) < 0.3).astype(np.float32)
    # Labels for the objectives that read them (classification): a function of the inputs.
    labels = (inputs.mean(axis=(1, 2, 3)) > 0.3).astype(np.int32)
    return {"inputs": jnp.asarray(inputs), "label": jnp.asarray(labels)}


def _model(name):
    kind = OBJECTIVES.get(name).model_kind
    if kind == "compression":
        fields = {"name": "factorized_prior", "transform": "dense", "channels": (16,)}
    elif kind == "classifier":
        fields = {"name": "conv_classifier", "channels": (4,)}
        config = ml_collections.ConfigDict({**fields, "latent_dim": 4})
        output_shape = build_objective(_config(name)).decoder_output_shape((8, 8, 1))
        return build_model(config, (8, 8, 1), output_shape, rngs=nnx.Rngs(0))
    else:
        fields = {"name": "dense_vae", "hidden_dims": (16,)}
    config = ml_collections.ConfigDict({**fields, "latent_dim": 4})
    return build_model(config, (8, 8, 1), rngs=nnx.Rngs(0))


def _config(name):
    likelihoods = OBJECTIVES.get(name).likelihoods
    fields = {"likelihood": likelihoods[0]} if likelihoods else {}
    return ml_collections.ConfigDict({"name": name, **fields})


def test_the_registry_lists_the_objectives():
    assert {
        "elbo",
        "iwae",
        "reconstruction",
        "wae_mmd",
        "beta_tc_vae",
        "dip_vae",
        "annealed_vae",
    } <= set(ALL_OBJECTIVES)


def test_declared_defaults_build(name):
    objective = build_objective(_config(name))
    # A classifier's objective asks for class logits, every other one for the data.
    expected = (objective.num_classes,) if objective.model_kind == "classifier" else (8, 8, 1)
    assert objective.decoder_output_shape((8, 8, 1)) == expected
    assert OBJECTIVES.options(name).option_names()  # every objective declares options


def test_loss_is_finite_with_finite_gradients_and_falls(name):
    objective = build_objective(_config(name))
    graphdef, params, state = split_model(_model(name))
    batch = _batch()
    optimizer = optax.adam(1e-2)
    opt_state = optimizer.init(params)

    def loss_fn(params, key):
        model = merge_model(graphdef, params, state)
        return objective(model, batch, rngs=nnx.Rngs(key), train=True, step=0)

    @jax.jit
    def step(params, opt_state, key):
        (loss, metrics), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, key)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss, metrics, grads

    losses = []
    for i in range(_STEPS):
        params, opt_state, loss, metrics, grads = step(params, opt_state, jax.random.key(i))
        assert loss.shape == () and np.isfinite(loss)
        assert all(np.shape(v) == () for v in metrics.values())
        assert "loss" in metrics
        if i == 0:
            assert all(np.all(np.isfinite(g)) for g in jax.tree.leaves(grads))
        losses.append(float(loss))
    assert np.mean(losses[-5:]) < np.mean(losses[:5]), losses
