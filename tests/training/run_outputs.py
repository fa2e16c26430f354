"""Reading what a run left in its work directory, for tests that compare two runs."""

from __future__ import annotations

import os

import jax
import numpy as np
import orbax.checkpoint as ocp

from aelab.training.metric_writer import read_metrics

TIMING_METRICS = ("train/steps_per_sec",)


def final_state(workdir: str) -> tuple[int, dict]:
    """(step, train state as nested dicts of NumPy arrays) of the latest checkpoint."""
    manager = ocp.CheckpointManager(os.path.join(workdir, "checkpoints"), item_names=("state",))
    step = manager.latest_step()
    restored = manager.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore()))
    manager.close()
    return step, jax.tree.map(np.asarray, restored["state"])


def logged_metrics(workdir: str, after_step: int = 0) -> list[dict]:
    """metrics.jsonl records after `after_step`, without the timing fields."""
    return [
        {k: v for k, v in record.items() if k not in TIMING_METRICS}
        for record in read_metrics(workdir)
        if record["step"] > after_step
    ]


def assert_same_run(workdir_a: str, workdir_b: str, *, after_step: int = 0) -> None:
    """Both runs end at the same step with bit-identical train states (parameters,
    optimizer state, rng) and log the same metrics after `after_step`."""
    step_a, state_a = final_state(workdir_a)
    step_b, state_b = final_state(workdir_b)
    assert step_a == step_b
    jax.tree.map(np.testing.assert_array_equal, state_a, state_b)
    assert logged_metrics(workdir_a, after_step) == logged_metrics(workdir_b, after_step)
