"""Every registered model: builds, has the right shapes, trains sharded, overfits a batch,
and is deterministic in evaluation mode.

Compilation dominates the cost of these tests on CPU, so each model's train step is
compiled once (one step per call, sharded over 8 devices) and shared by its tests: the
sharded-step test calls it twice, the overfit test 200 times. The model fixture is
module-scoped and parametrised, so pytest runs each model's tests together.
"""

import functools

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from flax import nnx

import aelab.models as models
from aelab.core.contract import Model, is_latent_variable_model
from aelab.objectives import build_objective
from aelab.training.mesh import batch_sharding, make_data_mesh, replicated
from aelab.training.optimizers import build_optimizer
from aelab.training.state import create_train_state, merge_model
from aelab.training.step import fuse_steps, make_train_step

ALL_MODELS = models.list_models()
BATCH = 16
_STEPS_PER_CALL = 1  # a plain step: XLA:CPU convolutions are slow inside lax.scan
_OVERFIT_STEPS = 200
_LEARNING_RATE = 1e-2


# Compiling a step for 8 devices dominates: the default tier compiles the dense models
# (and models from outside aelab, such as a guide's), the slow tier every model. Building
# and shape checks (eval_shape) cover every model in both.
FAST_MODELS = ("dense_ae", "dense_vae")


def _in_default_tier(name: str) -> bool:
    return name in FAST_MODELS or not models.MODELS.get(name).__module__.startswith("aelab.")


@pytest.fixture(scope="module", params=ALL_MODELS)
def any_model(request):
    return request.param


@pytest.fixture(
    scope="module",
    params=[
        m if _in_default_tier(m) else pytest.param(m, marks=pytest.mark.slow) for m in ALL_MODELS
    ],
)
def name(request):
    return request.param


def _setup(name):
    model_config, input_shape, _ = models.tiny_setup(name)
    config = models.tiny_objective_config(name)
    if "likelihood" not in config:  # the objective's declared likelihood, else Bernoulli
        config.likelihood = "bernoulli"
    objective = build_objective(config)
    return model_config, input_shape, objective


def _fixed_batch(input_shape, seed=0):
    """Structured inputs in [0, 1]: smooth random waves over every axis but channels,
    so a model can learn them (random bits would be incompressible). Works for images
    [H, W, C], series [T, C] and vectors [D]."""
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
    # Labels for the models trained on them (a classifier): a function of the inputs.
    labels = x.reshape(BATCH, -1).mean(axis=1) > np.median(x.reshape(BATCH, -1).mean(axis=1))
    return {
        "inputs": jnp.asarray(1 / (1 + np.exp(-2 * x))),
        "label": jnp.asarray(labels, jnp.int32),
    }


@functools.cache
def _compiled(name):
    """(graphdef, initial state, jitted 8-device train step over _STEPS_PER_CALL steps,
    the fixed batch stacked for it), built once per model and process."""
    model_config, input_shape, objective = _setup(name)
    mesh = make_data_mesh(8)
    optimizer = build_optimizer(
        ml_collections.ConfigDict({"name": "adam", "learning_rate": _LEARNING_RATE}),
        _OVERFIT_STEPS,
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
        {k: jnp.broadcast_to(v, (_STEPS_PER_CALL, *v.shape)) for k, v in batch.items()},
        batch_sharding(mesh, 1),
    )
    return graphdef, state, step, batches


def test_zoo_lists_models():
    assert {"dense_ae", "dense_vae", "conv_ae", "conv_vae"} <= set(ALL_MODELS)
    assert len(ALL_MODELS) >= 15


def test_builds_with_right_shapes(any_model):
    """Traced with jax.eval_shape: the model is built and run abstractly (no compile)."""
    model_config, input_shape, objective = _setup(any_model)
    output_shape = objective.decoder_output_shape(input_shape)

    def build_and_run(x):
        model = models.build_model(model_config, input_shape, output_shape, rngs=nnx.Rngs(0))
        encoding = model.encode(x)
        return encoding, model.decode(encoding.mean), model(x, rngs=nnx.Rngs(1))

    x = _fixed_batch(input_shape)["inputs"]
    encoding, decoded, output = jax.eval_shape(build_and_run, x)
    abstract_model = nnx.eval_shape(
        lambda: models.build_model(model_config, input_shape, output_shape, rngs=nnx.Rngs(0))
    )
    assert encoding.mean.shape[0] == BATCH
    assert decoded.shape == (BATCH, *output_shape)
    assert output.decoded.shape == (BATCH, *output_shape)
    assert output.code.shape == encoding.mean.shape
    assert isinstance(abstract_model, Model)
    if is_latent_variable_model(abstract_model):
        assert encoding.log_var.shape == encoding.mean.shape


def test_latent_variable_hooks_have_the_declared_shapes(any_model):
    """The contract's hooks (aelab.core.contract): KL groups [batch, groups], log
    importance weights [k, batch], prior samples [n, latent]."""
    name = any_model
    model_config, input_shape, objective = _setup(name)
    output_shape = objective.decoder_output_shape(input_shape)
    model = nnx.eval_shape(
        lambda: models.build_model(model_config, input_shape, output_shape, rngs=nnx.Rngs(0))
    )
    if not is_latent_variable_model(model):
        pytest.skip(f"{name} is not a latent-variable model")
    assert model.num_stochastic_layers >= 1

    def hooks(x):
        model = models.build_model(model_config, input_shape, output_shape, rngs=nnx.Rngs(0))
        output = model(x, train=False, rngs=nnx.Rngs(1))
        log_w = model.log_importance_weights(
            x, objective.likelihood, rngs=nnx.Rngs(2), num_samples=3
        )
        return model.kl_terms(output), log_w, model.sample_prior(nnx.Rngs(3), 5)

    kl, log_w, prior = jax.eval_shape(hooks, _fixed_batch(input_shape)["inputs"])
    assert kl.ndim == 2 and kl.shape[0] == BATCH
    assert log_w.shape == (3, BATCH)
    assert prior.shape == (5, model.latent_dim)


def test_eval_mode_is_deterministic_and_changes_no_state(name):
    graphdef, state, _, _ = _compiled(name)
    model = merge_model(graphdef, state.params, state.model_state)
    _, input_shape, _ = _setup(name)
    x = _fixed_batch(input_shape)["inputs"]
    before = jax.tree.map(np.asarray, nnx.to_pure_dict(nnx.state(model)))
    # nnx.jit writes any variable the call changes back into `model`, so a model that
    # kept rng state or updated statistics in evaluation would fail one of the checks.
    forward = nnx.jit(lambda model, x: model(x, train=False).decoded)
    first = forward(model, x)
    second = forward(model, x)
    np.testing.assert_array_equal(first, second)
    after = jax.tree.map(np.asarray, nnx.to_pure_dict(nnx.state(model)))
    jax.tree.map(np.testing.assert_array_equal, before, after)


def test_two_sharded_steps_on_eight_devices(name):
    _, state, step, batches = _compiled(name)
    new_state = state
    for _ in range(2 // _STEPS_PER_CALL):
        new_state, metrics = step(new_state, batches)
        assert np.all(np.isfinite(np.asarray(metrics["loss"])))
    assert int(new_state.step) == 2
    leaf = jax.tree.leaves(new_state.params)[0]
    assert len(leaf.sharding.device_set) == 8 and leaf.sharding.is_fully_replicated
    changed = jax.tree.map(
        lambda a, b: bool(np.any(np.asarray(a) != np.asarray(b))), state.params, new_state.params
    )
    assert any(jax.tree.leaves(changed)), "no parameter changed"


def test_overfits_a_fixed_batch(name):
    """The loss falls, and the reconstruction error (whose floor is 0, unlike a Bernoulli
    loss on grey levels; a classifier's cross-entropy) falls by 40% in 200 steps."""
    _, state, step, batches = _compiled(name)
    per_call = []
    for _ in range(_OVERFIT_STEPS // _STEPS_PER_CALL):
        state, metrics = step(state, batches)
        per_call.append(jax.device_get(metrics))
    metrics = {k: np.concatenate([np.asarray(m[k]) for m in per_call]) for k in per_call[0]}
    loss = metrics["loss"]
    # A classifier reconstructs nothing: its error (floor 0) is its cross-entropy.
    error = metrics["mse"] if "mse" in metrics else metrics["cross_entropy"]
    assert np.all(np.isfinite(loss))
    assert loss[-5:].mean() < loss[:5].mean()
    assert error[-5:].mean() < 0.6 * error[:5].mean(), error
