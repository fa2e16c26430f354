"""The two-optimizer train step: a model and its discriminator updated in one jitted,
sharded step (adversarial objectives, here FactorVAE)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from aelab.config import ConfigError
from aelab.data import load_split
from aelab.data.pipeline import ProcessSlice, to_global_arrays, train_dataset
from aelab.evaluation import train_and_evaluate
from aelab.sweeps.population import train_population
from aelab.training.experiment import build_run_spec
from aelab.training.mesh import batch_sharding, fsdp_shardings, make_data_mesh, replicated
from aelab.training.nonfinite import skip_nonfinite_updates
from aelab.training.optimizers import (
    build_discriminator_optimizer,
    build_discriminator_schedule,
    build_optimizer,
)
from aelab.training.state import AdversarialTrainState, create_train_state_with_discriminator
from aelab.training.step import fuse_steps, make_adversarial_train_step
from tests.training.adversarial_config import tiny_adversarial_config as adversarial_config


def _setup(config, num_devices, sharding_fn=None):
    spec = build_run_spec(config)
    mesh = make_data_mesh(num_devices)
    num_steps = config.train.num_steps
    optimizer = build_optimizer(config.optimizer, num_steps)
    d_optimizer = build_discriminator_optimizer(config.optimizer, num_steps)
    graphdef, d_graphdef, state, shardings = create_train_state_with_discriminator(
        config.model,
        spec.example_shape,
        spec.output_shape,
        optimizer,
        seed=0,
        mesh=mesh,
        state_sharding_fn=sharding_fn,
        objective=spec.objective,
        discriminator_optimizer=d_optimizer,
    )
    one_step = make_adversarial_train_step(
        graphdef,
        d_graphdef,
        spec.objective,
        optimizer,
        d_optimizer,
        None,
        build_discriminator_schedule(config.optimizer, num_steps),
    )
    return spec, mesh, state, shardings, one_step


def _batches(config, spec, mesh, num_calls):
    source, _ = load_split(config.data, "train")
    batches = iter(
        train_dataset(source, spec.transform, ProcessSlice(config.data.batch_size), seed=0)
    )
    for _ in range(num_calls):
        stacked = {k: v[None] for k, v in next(batches).items()}
        yield to_global_arrays(stacked, batch_sharding(mesh, 1))


def _run(config, num_devices, sharding_fn=None, num_calls=2):
    spec, mesh, state, shardings, one_step = _setup(config, num_devices, sharding_fn)
    step = jax.jit(
        fuse_steps(one_step),
        in_shardings=(shardings, batch_sharding(mesh, 1)),
        out_shardings=(shardings, replicated(mesh)),
        donate_argnums=0,
    )
    metrics = []
    for batch in _batches(config, spec, mesh, num_calls):
        state, m = step(state, batch)
        metrics.append(jax.device_get(m))
    return state, metrics


# Both layouts in the slow tier (about 10 s each): the README tier keeps the
# one-device checks of the step below; CI runs these too.
@pytest.mark.slow
@pytest.mark.parametrize("sharding", ["replicated", "fsdp"])
def test_sharded_two_optimizer_step_matches_single_device(sharding):
    assert jax.device_count() == 8, "conftest sets 8 fake CPU devices"
    config = adversarial_config()
    fn = fsdp_shardings if sharding == "fsdp" else None
    state_1, metrics_1 = _run(config, 1)
    state_8, metrics_8 = _run(config, 8, fn)
    assert isinstance(state_8, AdversarialTrainState)
    kernels = [p.shape for p in jax.tree.leaves(state_8.discriminator_params) if p.ndim == 2]
    assert kernels == [(4, 32), (32, 32), (32, 1)]  # latent 4 -> depth 2 x width 32 -> 1
    for name in ("loss", "total_correlation", "discriminator_loss", "discriminator_accuracy"):
        np.testing.assert_allclose(
            [m[name] for m in metrics_8], [m[name] for m in metrics_1], rtol=1e-5, atol=1e-6
        )
    for tree in ("params", "discriminator_params", "discriminator_opt_state"):
        jax.tree.map(
            lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6),
            jax.device_get(getattr(state_8, tree)),
            jax.device_get(getattr(state_1, tree)),
        )
    leaf = jax.tree.leaves(state_8.discriminator_params)[0]
    assert len(leaf.sharding.device_set) == 8
    if sharding == "replicated":
        assert leaf.sharding.is_fully_replicated


@pytest.mark.slow
def test_both_networks_move_each_on_its_own_loss():
    config = adversarial_config()
    spec, mesh, state, _, one_step = _setup(config, 1)
    before = jax.device_get(state)
    batch = next(_batches(config, spec, mesh, 1))
    after, metrics = jax.jit(one_step)(state, jax.tree.map(lambda b: b[0], batch))
    assert int(after.step) == 1
    for tree in ("params", "discriminator_params"):
        moved = jax.tree.map(
            lambda a, b: float(np.abs(np.asarray(a) - b).max()),
            jax.device_get(getattr(after, tree)),
            getattr(before, tree),
        )
        assert min(jax.tree.leaves(moved)) > 0, (tree, moved)
    # Both losses and both gradient norms are reported, with the discriminator's rate.
    for name in ("loss", "grad_norm", "discriminator_loss", "discriminator_grad_norm"):
        assert np.isfinite(metrics[name]) and metrics[name] > 0
    np.testing.assert_allclose(metrics["discriminator_learning_rate"], 1e-4, rtol=1e-6)
    # The discriminator starts near chance: its cross-entropy is near log 2.
    assert abs(float(metrics["discriminator_loss"]) - np.log(2)) < 0.1


@pytest.mark.slow
def test_skip_policy_drops_an_update_whose_discriminator_is_not_finite():
    config = adversarial_config()
    spec, mesh, state, _, one_step = _setup(config, 1)
    batch = jax.tree.map(lambda b: b[0], next(_batches(config, spec, mesh, 1)))

    def poisoned_step(state, batch):
        new_state, metrics = one_step(state, batch)
        d_params = jax.tree.map(lambda p: p * jnp.nan, new_state.discriminator_params)
        return new_state.replace(discriminator_params=d_params), metrics

    kept, metrics = jax.jit(skip_nonfinite_updates(poisoned_step))(state, batch)
    assert float(metrics["skipped"]) == 1.0
    assert int(kept.step) == 1
    jax.tree.map(np.testing.assert_array_equal, kept.params, state.params)
    jax.tree.map(
        np.testing.assert_array_equal, kept.discriminator_params, state.discriminator_params
    )


def test_population_refuses_an_adversarial_objective_naming_the_fix(tmp_path):
    config = adversarial_config()
    members = [{"seed": 0}, {"seed": 1}]
    with pytest.raises(ConfigError, match=r"factor_vae.* run a normal sweep \(no population_size"):
        train_population(config, members, str(tmp_path / "population"))


def test_mixed_precision_is_refused_with_the_fix(tmp_path):
    config = adversarial_config()
    config.train.compute_dtype = "bfloat16"
    with pytest.raises(ConfigError, match=r"set config.train.compute_dtype='float32'"):
        train_and_evaluate(config, str(tmp_path / "run"))
