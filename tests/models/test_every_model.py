"""Every registered model: builds, has the right shapes, trains sharded, overfits a batch,
and is deterministic in evaluation mode."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from flax import nnx

import aelab.models as models
from aelab.objectives import build_objective
from aelab.training.mesh import batch_sharding, make_data_mesh, replicated
from aelab.training.optimizers import build_optimizer
from aelab.training.state import create_train_state
from aelab.training.step import fuse_steps, make_train_step

ALL_MODELS = models.list_models()
BATCH = 16


def _setup(name):
    model_config, input_shape, objective_name = models.tiny_setup(name)
    objective = build_objective(
        ml_collections.ConfigDict({"name": objective_name, "likelihood": "bernoulli"})
    )
    return model_config, input_shape, objective


def _fixed_batch(input_shape, seed=0):
    """Structured inputs in [0, 1]: smooth random waves over every axis but channels,
    so a model can learn them (random bits would be incompressible)."""
    rng = np.random.default_rng(seed)
    *positions, channels = input_shape
    grids = np.meshgrid(*[np.linspace(0, 1, n) for n in positions], indexing="ij")
    x = np.zeros((BATCH, *input_shape), np.float32)
    for _ in range(2):
        freq = rng.uniform(0.5, 2.0, (BATCH, len(positions), channels))
        phase = rng.uniform(0, 2 * np.pi, (BATCH, 1, channels))
        arg = sum(
            freq[:, i][:, *([None] * len(positions))] * grid[None, ..., None] * 2 * np.pi
            for i, grid in enumerate(grids)
        )
        x += np.sin(arg + phase.reshape(BATCH, *([1] * len(positions)), channels))
    return {"inputs": jnp.asarray(1 / (1 + np.exp(-2 * x)))}


def test_zoo_lists_models():
    assert {"dense_ae", "dense_vae", "conv_ae", "conv_vae"} <= set(ALL_MODELS)


@pytest.mark.parametrize("name", ALL_MODELS)
def test_builds_with_right_shapes(name):
    model_config, input_shape, objective = _setup(name)
    output_shape = objective.decoder_output_shape(input_shape)
    model = models.build_model(model_config, input_shape, output_shape, rngs=nnx.Rngs(0))
    x = _fixed_batch(input_shape)["inputs"]
    encoding = model.encode(x)
    assert encoding.mean.shape[0] == BATCH
    decoded = model.decode(encoding.mean)
    assert decoded.shape == (BATCH, *output_shape)
    output = model(x, rngs=nnx.Rngs(1))
    assert output.decoded.shape == (BATCH, *output_shape)
    assert output.code.shape == encoding.mean.shape
    if model.is_variational:
        assert encoding.log_var.shape == encoding.mean.shape


@pytest.mark.parametrize("name", ALL_MODELS)
def test_eval_mode_is_deterministic(name):
    model_config, input_shape, objective = _setup(name)
    output_shape = objective.decoder_output_shape(input_shape)
    model = models.build_model(model_config, input_shape, output_shape, rngs=nnx.Rngs(0))
    x = _fixed_batch(input_shape)["inputs"]
    first = model(x, train=False).decoded
    second = model(x, train=False).decoded
    np.testing.assert_array_equal(first, second)


def _train(name, *, num_devices, num_steps, learning_rate):
    model_config, input_shape, objective = _setup(name)
    mesh = make_data_mesh(num_devices)
    optimizer = build_optimizer(
        ml_collections.ConfigDict({"name": "adam", "learning_rate": learning_rate}), num_steps
    )
    graphdef, state, shardings = create_train_state(
        model_config,
        input_shape,
        objective.decoder_output_shape(input_shape),
        optimizer,
        seed=0,
        mesh=mesh,
    )
    step = jax.jit(
        fuse_steps(make_train_step(graphdef, objective, optimizer)),
        in_shardings=(shardings, batch_sharding(mesh, 1)),
        out_shardings=(shardings, replicated(mesh)),
    )
    batch = _fixed_batch(input_shape)
    batches = jax.device_put(
        {k: jnp.broadcast_to(v, (num_steps, *v.shape)) for k, v in batch.items()},
        batch_sharding(mesh, 1),
    )
    state, metrics = step(state, batches)
    return {k: np.asarray(v) for k, v in metrics.items()}, state


@pytest.mark.parametrize("name", ALL_MODELS)
def test_two_sharded_steps_on_eight_devices(name):
    metrics, state = _train(name, num_devices=8, num_steps=2, learning_rate=1e-3)
    assert np.all(np.isfinite(metrics["loss"]))
    assert int(state.step) == 2


@pytest.mark.parametrize("name", ALL_MODELS)
def test_overfits_a_fixed_batch(name):
    """The loss falls, and the reconstruction error (whose floor is 0, unlike a Bernoulli
    loss on grey levels) falls by 40% in 200 steps."""
    metrics, _ = _train(name, num_devices=1, num_steps=200, learning_rate=1e-2)
    loss, mse = metrics["loss"], metrics["mse"]
    assert np.all(np.isfinite(loss))
    assert loss[-5:].mean() < loss[:5].mean()
    assert mse[-5:].mean() < 0.6 * mse[:5].mean(), mse
