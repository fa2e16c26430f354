"""Exact resume: an interrupted run ends bit-identical to an uninterrupted one."""

import os

import jax
import numpy as np
import orbax.checkpoint as ocp
import pytest

from aelab.evaluation import train_and_evaluate
from aelab.evaluation.loading import load_run
from aelab.training.metric_writer import read_metrics
from tests.training.adversarial_config import tiny_adversarial_config
from tests.training.run_outputs import assert_same_run, final_state

DETERMINISTIC_PREFIXES = ("train/", "eval/")
TIMING_METRICS = ("train/steps_per_sec",)


def _final_params(workdir):
    manager = ocp.CheckpointManager(os.path.join(workdir, "checkpoints"), item_names=("state",))
    step = manager.latest_step()
    restored = manager.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore()))
    manager.close()
    return step, restored["state"]["params"]


def _logged(workdir, after_step):
    return [
        {k: v for k, v in record.items() if k not in TIMING_METRICS}
        for record in read_metrics(workdir)
        if record["step"] > after_step
    ]


@pytest.mark.parametrize(
    "steps_per_call, members",
    [
        (1, 1),
        pytest.param(2, 1, marks=pytest.mark.slow),
        pytest.param(1, 2, marks=pytest.mark.slow, id="ensemble"),  # a deep ensemble
    ],
)
def test_interrupted_run_matches_uninterrupted(tmp_path, tiny_config, steps_per_call, members):
    config = tiny_config
    config.train.steps_per_call = steps_per_call
    config.model.ensemble_members = members
    config.train.num_steps = 12
    config.train.checkpoint_every = 6
    config.train.log_every = 4  # not a divisor of 6: a log window straddles the resume
    config.train.eval_every = 6

    full = str(tmp_path / "full")
    train_and_evaluate(config, full)

    interrupted = str(tmp_path / "interrupted")
    half = config.copy_and_resolve_references()
    half.train.num_steps = 6
    train_and_evaluate(half, interrupted)
    train_and_evaluate(config, interrupted)

    step_a, params_a = _final_params(full)
    step_b, params_b = _final_params(interrupted)
    assert step_a == step_b == 12
    jax.tree.map(np.testing.assert_array_equal, params_a, params_b)
    assert _logged(full, 6) == _logged(interrupted, 6)
    # The first attempt also logged its partial window at its last step, 6.
    assert [r["step"] for r in _logged(interrupted, 0) if "train/loss" in r] == [4, 6, 8, 12]
    assert [r["step"] for r in _logged(full, 0) if "train/loss" in r] == [4, 8, 12]


@pytest.mark.slow  # three runs of the two-optimizer step
def test_interrupted_adversarial_run_matches_uninterrupted(tmp_path):
    """A model and its discriminator (two optimizers) resume bit-identically: both
    networks' parameters and optimizer states, and every logged metric of both losses."""
    config = tiny_adversarial_config()
    config.train.num_steps = 12
    config.train.checkpoint_every = 6
    config.train.log_every = 4
    config.train.eval_every = 6
    full, interrupted = str(tmp_path / "full"), str(tmp_path / "interrupted")
    train_and_evaluate(config, full)
    half = config.copy_and_resolve_references()
    half.train.num_steps = 6
    train_and_evaluate(half, interrupted)
    train_and_evaluate(config, interrupted)
    assert_same_run(full, interrupted, after_step=6)  # the first attempt logged step 6 too
    _, state = final_state(interrupted)
    assert {"discriminator_params", "discriminator_opt_state"} <= set(state)
    assert "train/discriminator_loss" in _logged(interrupted, 6)[0]
    # Evaluation reloads the run: its abstract state has the discriminator too.
    assert load_run(interrupted, "latest").step == 12


@pytest.mark.slow
def test_rerun_of_finished_run_does_nothing(tmp_path, tiny_config):
    workdir = str(tmp_path / "run")
    train_and_evaluate(tiny_config, workdir)
    before = read_metrics(workdir)
    train_and_evaluate(tiny_config, workdir)
    assert read_metrics(workdir) == before


@pytest.mark.slow  # three runs (14 s)
def test_resume_log_drops_records_of_the_interrupted_attempt(tmp_path, tiny_config):
    """Lines logged after the last checkpoint by a crashed attempt are not duplicated."""
    workdir = str(tmp_path / "run")
    train_and_evaluate(tiny_config, workdir)
    with open(os.path.join(workdir, "metrics.jsonl"), "a") as f:
        f.write('{"step": 9, "train/loss": 1.0}\n')
    tiny_config.train.num_steps = 12
    train_and_evaluate(tiny_config, workdir)
    steps = [r["step"] for r in read_metrics(workdir) if "train/loss" in r]
    assert steps == sorted(set(steps))
    assert max(steps) == 12
