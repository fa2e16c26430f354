"""A vmapped population equals the same members trained one by one."""

import json
import os
import signal

import jax
import numpy as np
import orbax.checkpoint as ocp
import pytest

from aelab.config import ConfigError
from aelab.evaluation import train_and_evaluate
from aelab.sweeps import SweepRun, print_report, run_sweep
from aelab.sweeps.population import check_vmappable, member_config, train_population
from aelab.training import TrainCallback, TrainingPreempted, WorkdirLockedError
from aelab.training.metric_writer import read_metrics
from aelab.training.workdir_lock import WorkdirLock
from tests.conftest import load_config
from tests.sweeps.conftest import write_sweep_file
from tests.training.tensorboard_events import hparams_plugin_data, scalars

MEMBERS = [
    {
        "seed": 0,
        "optimizer.learning_rate": 1e-3,
        "optimizer.weight_decay": 1e-4,
        "objective.beta": 1.0,
        "model.dropout_rate": 0.1,
    },
    {
        "seed": 1,
        "optimizer.learning_rate": 3e-3,
        "optimizer.weight_decay": 1e-2,
        "objective.beta": 0.5,
        "model.dropout_rate": 0.3,
    },
]


def _base_config():
    config = load_config("quickstart", "smoke")
    config.mesh.num_devices = 1
    config.model.hidden_dims = (32,)
    config.model.latent_dim = 4
    config.model.dropout_rate = 0.1
    config.optimizer.name = "adamw"
    config.optimizer.weight_decay = 1e-4
    config.optimizer.schedule = "cosine"
    config.optimizer.warmup_steps = 2
    config.data.batch_size = 16
    config.data.eval_batch_size = 64
    config.train.num_steps = 6
    config.train.log_every = 2
    config.train.eval_every = 6
    config.train.checkpoint_every = 6
    config.train.steps_per_call = 2
    return config


def _params(checkpoint_dir, step):
    manager = ocp.CheckpointManager(checkpoint_dir, item_names=("state",))
    restored = manager.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore()))
    manager.close()
    return restored["state"]["params"]


@pytest.fixture(scope="module")
def sequential_runs(tmp_path_factory):
    """Each member trained alone by the normal loop: (final params, final eval metrics)."""
    runs = []
    for i, values in enumerate(MEMBERS):
        workdir = str(tmp_path_factory.mktemp(f"sequential_{i}"))
        metrics = train_and_evaluate(member_config(_base_config(), values), workdir)
        runs.append((_params(os.path.join(workdir, "checkpoints"), 6), metrics))
    return runs


class MemberRecorder(TrainCallback):
    def __init__(self):
        self.logs, self.evaluations, self.checkpoints = [], [], []

    def on_log(self, step, scalars):
        self.logs.append((step, dict(scalars)))

    def on_evaluation(self, step, metrics):
        self.evaluations.append((step, dict(metrics)))

    def on_checkpoint(self, step):
        self.checkpoints.append(step)


@pytest.mark.parametrize("strategy", ["vmap", pytest.param("sequential", marks=pytest.mark.slow)])
def test_population_equals_sequential_runs(tmp_path, sequential_runs, strategy):
    recorders = [MemberRecorder() for _ in MEMBERS]
    results = train_population(
        _base_config(),
        MEMBERS,
        str(tmp_path / "population"),
        strategy=strategy,
        callbacks=[[recorder] for recorder in recorders],
    )
    stacked = _params(str(tmp_path / "population" / "checkpoints"), 6)
    assert [r.steps for r in results] == [6] * len(MEMBERS)
    for i, (params, metrics) in enumerate(sequential_runs):
        member = jax.tree.map(lambda x, i=i: x[i], stacked)
        jax.tree.map(
            lambda a, b: np.testing.assert_allclose(a, b, rtol=0, atol=1e-5), member, params
        )
        assert results[i].error is None
        for name, value in metrics.items():
            assert results[i].final_metrics[name] == pytest.approx(value, rel=1e-5, abs=1e-5)
    # The members really differ (the hyperparameters reached the step).
    assert results[0].final_metrics["eval/loss"] != results[1].final_metrics["eval/loss"]
    # Each member's callbacks saw its own logs (6 steps, log every 2), its own evaluation
    # and the checkpoint, as a single run's do.
    for i, recorder in enumerate(recorders):
        member_log = read_metrics(str(tmp_path / "population" / "members" / f"member_{i:02d}"))
        assert [step for step, _ in recorder.logs] == [2, 4, 6]
        assert [s["train/loss"] for _, s in recorder.logs] == [
            r["train/loss"] for r in member_log if "train/loss" in r
        ]
        assert recorder.evaluations == [(6, results[i].final_metrics)]
        assert recorder.checkpoints == [6]


def test_population_callbacks_are_one_list_per_member(tmp_path):
    with pytest.raises(ValueError, match="1 callback lists for 2 members"):
        train_population(_base_config(), MEMBERS, str(tmp_path / "p"), callbacks=[[]])
    assert not os.path.exists(tmp_path / "p")


def test_fields_that_change_the_program_are_refused():
    with pytest.raises(ValueError, match=r"model\.latent_dim"):
        check_vmappable(["optimizer.learning_rate", "model.latent_dim"], _base_config())
    config = _base_config()
    config.optimizer.name = "adam"
    with pytest.raises(ValueError, match="adamw"):
        check_vmappable(["optimizer.weight_decay"], config)


@pytest.mark.slow
def test_population_sweep_fills_the_results_table(tmp_path):
    spec = write_sweep_file(
        tmp_path,
        """
        Sweep(
            config_file=QUICKSTART, config_arg="smoke",
            overrides={**SMOKE, "train.num_steps": 10, "model.hidden_dims": (32,)},
            space={"seed": Int(0, 100), "optimizer.learning_rate": Float(1e-3, 1e-2, log=True)},
            sampler="random", num_trials=3, population_size=2, population_strategy="vmap",
            # 3 trials in populations of 2: the second population has one member.
        )
        """,
    )
    run = SweepRun(sweep_spec=spec, sweep_dir=str(tmp_path / "sweep"))
    assert run_sweep(run)
    report = print_report(run)
    rows = report["rows"]
    assert [r["state"] for r in rows] == ["COMPLETE"] * 3  # populations of 2, then 1
    assert all(r["steps"] == 10 and r["final/eval/loss"] == r["value"] for r in rows)
    assert os.path.isfile(os.path.join(rows[2]["workdir"], "metrics.jsonl"))
    # Each member recorded its values and objective for TensorBoard's HParams tab.
    for row in rows:
        directory = os.path.join(row["workdir"], "tensorboard", "hparams")
        start = hparams_plugin_data(directory)["_hparams_/session_start_info"]
        assert start.session_start_info.hparams["seed"].number_value == row["seed"]
        assert scalars(directory)["sweep/objective"] == [pytest.approx(row["value"])]
    # Rerun alone, the best member needs the population's data order.
    assert "--config.data.seed=0 " in report["command"]


# ----------------------------------------------- through the loop core: lock, signals


def _longer_config():
    config = _base_config()
    config.train.num_steps = 8
    config.train.eval_every = 2
    config.train.checkpoint_every = 4
    return config


def test_population_validates_before_writing_and_refuses_what_it_cannot_honour(tmp_path):
    workdir = tmp_path / "population"
    cases = [
        (lambda c: setattr(c.train, "early_stopping_patience", 2), "cannot stop one at a time"),
        (lambda c: c.evals.reconstruction.update({"every": 6}), "does not run evaluators"),
        (lambda c: setattr(c.train, "compute_dtype", "float8"), "compute_dtype='float8'"),
    ]
    for change, message in cases:
        config = _base_config()
        change(config)
        with pytest.raises(ConfigError, match=message):
            train_population(config, MEMBERS, str(workdir))
    bad_member = [dict(MEMBERS[0]), {**MEMBERS[1], "optimizer.learning_rate": -1.0}]
    with pytest.raises(ConfigError, match=r"member .*learning_rate=-1.0 is not valid"):
        train_population(_base_config(), bad_member, str(workdir))
    with pytest.raises(ConfigError, match=r"model\.latent_dim"):
        train_population(
            _base_config(), [{"model.latent_dim": 2}, {"model.latent_dim": 3}], str(workdir)
        )
    assert not workdir.exists()


def test_population_holds_the_work_directory_lock(tmp_path):
    workdir = tmp_path / "population"
    with WorkdirLock(str(workdir)), pytest.raises(WorkdirLockedError):
        train_population(_base_config(), MEMBERS, str(workdir))


@pytest.mark.slow
def test_sigterm_checkpoints_the_population_and_the_rerun_ends_as_an_uninterrupted_one(
    tmp_path,
):
    straight = tmp_path / "straight"
    train_population(_longer_config(), MEMBERS, str(straight), strategy="vmap")

    def stop_at_step_2(step, metrics):
        if step == 2:
            os.kill(os.getpid(), signal.SIGTERM)

    interrupted = tmp_path / "interrupted"
    with pytest.raises(TrainingPreempted) as stop:
        train_population(
            _longer_config(),
            MEMBERS,
            str(interrupted),
            strategy="vmap",
            on_evaluation=stop_at_step_2,
        )
    assert stop.value.step == 4  # steps come two per call: saved after steps 3-4
    results = train_population(_longer_config(), MEMBERS, str(interrupted), strategy="vmap")
    assert [r.steps for r in results] == [8, 8]
    a = _params(str(straight / "checkpoints"), 8)
    b = _params(str(interrupted / "checkpoints"), 8)
    jax.tree.map(np.testing.assert_array_equal, a, b)
    # The members' logs have each step once, as the straight run's.
    for i in range(len(MEMBERS)):
        straight_log = (straight / "members" / f"member_{i:02d}" / "metrics.jsonl").read_text()
        resumed_log = (interrupted / "members" / f"member_{i:02d}" / "metrics.jsonl").read_text()
        assert [json.loads(x)["step"] for x in resumed_log.splitlines()] == [
            json.loads(x)["step"] for x in straight_log.splitlines()
        ]
