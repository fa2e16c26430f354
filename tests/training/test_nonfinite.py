"""The NaN/inf guard: "stop" names the step and metric; "skip" drops the update and counts it."""

import math
import os

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from aelab.evaluation import train_and_evaluate
from aelab.training import NonFiniteLossError, TrainState
from aelab.training import single_run as training_loop
from aelab.training.metric_writer import read_metrics
from aelab.training.nonfinite import NonFiniteGuard, skip_nonfinite_updates
from aelab.training.step import fuse_steps


def _toy_state() -> TrainState:
    params = {"w": jnp.ones((3,), jnp.float32)}
    return TrainState(
        step=jnp.zeros((), jnp.int32),
        params=params,
        model_state={},
        opt_state=optax.adam(0.1).init(params),
        rng=jax.random.PRNGKey(0),
    )


def _toy_step(state, batch):
    """Moves w towards x with Adam; x with a NaN gives a NaN loss and NaN parameters."""
    optimizer = optax.adam(0.1)
    loss, grads = jax.value_and_grad(lambda p: jnp.sum((p["w"] - batch["x"]) ** 2))(state.params)
    updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
    new_state = state.replace(
        step=state.step + 1, params=optax.apply_updates(state.params, updates), opt_state=opt_state
    )
    return new_state, {"loss": loss, "grad_norm": optax.tree.norm(grads)}


def test_skipped_update_keeps_the_old_state_and_advances_the_step():
    steps = jax.jit(fuse_steps(skip_nonfinite_updates(_toy_step)))
    xs = np.zeros((3, 3), np.float32)
    xs[1, 0] = np.nan  # The second of three steps is poisoned.
    state, metrics = steps(_toy_state(), {"x": xs})
    reference, _ = jax.jit(fuse_steps(_toy_step))(_toy_state(), {"x": np.zeros((2, 3), np.float32)})
    assert int(state.step) == 3
    np.testing.assert_array_equal(metrics["skipped"], [0.0, 1.0, 0.0])
    # Steps 1 and 3 were applied, step 2 was not: the same as two clean steps.
    jax.tree.map(np.testing.assert_array_equal, state.params, reference.params)
    jax.tree.map(np.testing.assert_array_equal, state.opt_state, reference.opt_state)


def test_guard_leaves_skipped_steps_out_of_the_means_and_counts_them():
    guard = NonFiniteGuard("skip", patience=3)
    per_step = {"loss": np.array([1.0, np.nan, 3.0]), "skipped": np.array([0.0, 1.0, 0.0])}
    kept = guard.filter(per_step, first_step=10, checkpoint_step=8)
    np.testing.assert_array_equal(kept["loss"], [1.0, 3.0])
    assert guard.state_dict() == {"skipped_steps": 1, "skipped_in_a_row": 0}


def test_guard_stops_after_patience_skips_in_a_row():
    guard = NonFiniteGuard("skip", patience=2, state={"skipped_steps": 5, "skipped_in_a_row": 1})
    per_step = {"loss": np.array([np.nan]), "skipped": np.array([1.0])}
    with pytest.raises(NonFiniteLossError, match=r"skipped 2 updates in a row up to step 11"):
        guard.filter(per_step, first_step=10, checkpoint_step=8)


def test_stop_names_the_step_and_the_first_nonfinite_metric():
    guard = NonFiniteGuard("stop")
    per_step = {"grad_norm": np.array([1.0, np.inf]), "loss": np.array([2.0, np.nan])}
    with pytest.raises(
        NonFiniteLossError,
        match=r"diverged at step 12: loss=nan is the first non-finite metric \(also grad_norm\);"
        r" the last good checkpoint \(step 8\) is kept",
    ):
        guard.filter(per_step, first_step=10, checkpoint_step=8)


def _poison_steps(monkeypatch, poisoned: tuple[int, ...]):
    """Makes the updates of the given (1-based) steps NaN, as a diverging model would."""
    make_train_step = training_loop.make_train_step

    def make_poisoned_step(*args, **kwargs):
        train_step = make_train_step(*args, **kwargs)

        def poisoned_step(state, batch):
            new_state, metrics = train_step(state, batch)
            nan = jnp.where(jnp.isin(state.step + 1, jnp.asarray(poisoned)), jnp.nan, 1.0)
            params = jax.tree.map(lambda p: p * nan, new_state.params)
            return new_state.replace(params=params), dict(metrics, loss=metrics["loss"] * nan)

        return poisoned_step

    monkeypatch.setattr(training_loop, "make_train_step", make_poisoned_step)


@pytest.mark.slow
def test_skip_policy_trains_through_nonfinite_steps(tmp_path, tiny_config, monkeypatch):
    _poison_steps(monkeypatch, poisoned=(3, 7))
    tiny_config.train.nonfinite = "skip"
    workdir = str(tmp_path / "run")
    train_and_evaluate(tiny_config, workdir)
    records = [r for r in read_metrics(workdir) if "train/loss" in r]
    assert [r["train/skipped_steps"] for r in records] == [0, 1, 1, 2]
    assert all(math.isfinite(r["train/loss"]) for r in records)
    assert all(math.isfinite(v) for r in read_metrics(workdir) for k, v in r.items() if k != "step")
    assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == ["4", "8"]


def test_stop_policy_stops_at_the_first_nonfinite_step(tmp_path, tiny_config, monkeypatch):
    _poison_steps(monkeypatch, poisoned=(7,))
    workdir = str(tmp_path / "run")
    with pytest.raises(
        NonFiniteLossError, match=r"diverged at step 7: loss=nan .*step 4\) is kept"
    ):
        train_and_evaluate(tiny_config, workdir)
    assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == ["4"]
