"""FSDP-style parameter sharding and bf16 mixed precision: same training, other layouts."""

import os

import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp
import pytest

from aelab.data import load_split
from aelab.data.pipeline import ProcessSlice, to_global_arrays, train_dataset
from aelab.evaluation import train_and_evaluate
from aelab.training.experiment import build_run_spec
from aelab.training.mesh import batch_sharding, make_data_mesh, replicated, state_sharding_fn
from aelab.training.optimizers import build_optimizer
from aelab.training.state import create_train_state
from aelab.training.step import fuse_steps, make_train_step


def _train(config, num_devices, *, param_sharding="replicated", compute_dtype=None, calls=3):
    spec = build_run_spec(config)
    mesh = make_data_mesh(num_devices)
    optimizer = build_optimizer(config.optimizer, config.train.num_steps)
    graphdef, state, shardings = create_train_state(
        config.model,
        spec.example_shape,
        spec.output_shape,
        optimizer,
        seed=0,
        mesh=mesh,
        state_sharding_fn=state_sharding_fn({"param_sharding": param_sharding}),
    )
    step = jax.jit(
        fuse_steps(
            make_train_step(graphdef, spec.objective, optimizer, compute_dtype=compute_dtype)
        ),
        in_shardings=(shardings, batch_sharding(mesh, 1)),
        out_shardings=(shardings, replicated(mesh)),
    )
    source, _ = load_split(config.data, "train")
    batches = iter(
        train_dataset(source, spec.transform, ProcessSlice(config.data.batch_size), seed=0)
    )
    losses = []
    for _ in range(calls):
        stacked = {k: np.stack([v, v]) for k, v in next(batches).items()}  # 2 steps a call
        state, metrics = step(state, to_global_arrays(stacked, batch_sharding(mesh, 1)))
        losses += [float(v) for v in metrics["loss"]]
    return losses, state


@pytest.fixture
def config(tiny_config):
    tiny_config.data.batch_size = 32
    tiny_config.model.hidden_dims = (64,)  # a 64x64 kernel: big enough to be sharded
    return tiny_config


def test_fsdp_step_matches_replicated_and_shards_the_state(config):
    losses_1, state_1 = _train(config, 1)
    losses_8, state_8 = _train(config, 8, param_sharding="fsdp")
    np.testing.assert_allclose(losses_8, losses_1, rtol=1e-5, atol=1e-5)
    jax.tree.map(
        lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5),
        jax.device_get(state_8.params),
        jax.device_get(state_1.params),
    )
    kernels = [
        leaf for leaf in jax.tree.leaves(state_8.params) if leaf.ndim == 2 and leaf.size >= 1024
    ]
    assert kernels
    for kernel in kernels:
        assert not kernel.sharding.is_fully_replicated
        shard = kernel.addressable_shards[0].data
        assert shard.size == kernel.size // 8
    # Adam's moments are split like their parameters.
    mu = jax.tree.leaves(state_8.opt_state[0].mu)
    assert any(not leaf.sharding.is_fully_replicated for leaf in mu)


@pytest.mark.slow
def test_fsdp_run_resumes_exactly(tmp_path, config):
    config.mesh.num_devices = 8
    config.mesh.param_sharding = "fsdp"
    config.train.num_steps = 8
    full, interrupted = str(tmp_path / "full"), str(tmp_path / "interrupted")
    train_and_evaluate(config, full)
    half = config.copy_and_resolve_references()
    half.train.num_steps = 4
    train_and_evaluate(half, interrupted)
    train_and_evaluate(config, interrupted)
    params = []
    for workdir in (full, interrupted):
        manager = ocp.CheckpointManager(os.path.join(workdir, "checkpoints"), item_names=("state",))
        restored = manager.restore(8, args=ocp.args.Composite(state=ocp.args.StandardRestore()))
        manager.close()
        params.append(restored["state"]["params"])
    jax.tree.map(np.testing.assert_array_equal, *params)


def test_unknown_param_sharding_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"must be one of .replicated., .fsdp."):
        state_sharding_fn({"param_sharding": "zero3"})


@pytest.mark.parametrize("batch_norm", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_bf16_compute_keeps_float32_state_and_tracks_float32_losses(config, batch_norm):
    config.model.batch_norm = batch_norm  # batch statistics: a non-parameter variable
    losses_32, _ = _train(config, 1, calls=4)
    losses_16, state_16 = _train(config, 1, compute_dtype="bfloat16", calls=4)
    trees = [state_16.params, state_16.opt_state] + ([state_16.model_state] if batch_norm else [])
    for tree in trees:
        floating = [x for x in jax.tree.leaves(tree) if jnp.issubdtype(x.dtype, jnp.floating)]
        assert floating and all(x.dtype == jnp.float32 for x in floating)
    # bf16 rounding changes the numbers a little, not the course of training.
    np.testing.assert_allclose(losses_16, losses_32, rtol=0.03)
    assert losses_16[-1] < losses_16[0]
    assert not np.array_equal(losses_16, losses_32)


def test_unknown_compute_dtype_lists_the_valid_ones(config):
    spec = build_run_spec(config)
    optimizer = build_optimizer(config.optimizer, 10)
    graphdef, _, _ = create_train_state(
        config.model,
        spec.example_shape,
        spec.output_shape,
        optimizer,
        seed=0,
        mesh=make_data_mesh(1),
    )
    with pytest.raises(ValueError, match="float32, bfloat16"):
        make_train_step(graphdef, spec.objective, optimizer, compute_dtype="float16")
