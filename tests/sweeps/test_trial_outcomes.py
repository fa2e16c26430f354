"""Trials that are pruned or fail are recorded as such, and the sweep goes on."""

import json
import os

import optuna
import pytest

from aelab.sweeps import SweepRun, print_report, results_rows, run_sweep
from aelab.training.metric_writer import read_metrics
from tests.sweeps.conftest import write_sweep_file
from tests.training.tensorboard_events import hparams_plugin_data, scalars


def _study(run: SweepRun) -> optuna.Study:
    return optuna.load_study(study_name=run.name, storage=run.open_storage())


@pytest.mark.slow  # a sweep with a pruned trial (7 s)
def test_pruned_trial_is_recorded_as_pruned(tmp_path):
    spec = write_sweep_file(
        tmp_path,
        """
        Sweep(
            config_file=QUICKSTART, config_arg="smoke",
            overrides={**SMOKE, "train.num_steps": 20},
            space={"optimizer.learning_rate": Float(1e-3, 2e-3)},
            sampler="random", num_trials=1,
            # Every loss is above 0: the trial is pruned at its first evaluation.
            pruner=optuna.pruners.ThresholdPruner(upper=0.0),
        )
        """,
    )
    run = SweepRun(sweep_spec=spec, sweep_dir=str(tmp_path / "sweep"))
    assert run_sweep(run, num_workers=0)

    [row] = results_rows(_study(run))
    assert row["state"] == "PRUNED"
    assert row["steps"] == 10
    assert row["value"] > 0  # the last reported value
    # The loop saved the checkpoint of the pruning step before the pruner stopped it.
    assert os.path.isdir(os.path.join(row["workdir"], "checkpoints", "10"))
    assert not os.path.isdir(os.path.join(row["workdir"], "checkpoints", "20"))


@pytest.mark.slow  # a sweep of failing trials (12 s)
def test_failed_trials_are_recorded_and_the_sweep_goes_on(tmp_path):
    spec = write_sweep_file(
        tmp_path,
        """
        Sweep(
            config_file=QUICKSTART, config_arg="smoke",
            overrides={**SMOKE, "train.num_steps": 10},
            # Grid order: a bad value the data pipeline rejects, a diverging rate, a good one.
            space={
                "data.binarize": Choice(["sometimes", "none"]),
                "optimizer.learning_rate": Choice([1e12, 1e-3]),
            },
            sampler="grid",
        )
        """,
    )
    run = SweepRun(sweep_spec=spec, sweep_dir=str(tmp_path / "sweep"))
    assert run_sweep(run, num_workers=0)

    rows = {
        (r["data.binarize"], r["optimizer.learning_rate"]): r for r in results_rows(_study(run))
    }
    assert len(rows) == 4
    for lr in (1e12, 1e-3):
        bad = rows[("sometimes", lr)]
        assert bad["state"] == "FAIL"
        assert bad["error"].startswith("ConfigError: config.data.binarize='sometimes'")
    diverged = rows[("none", 1e12)]
    assert diverged["state"] == "FAIL"
    assert diverged["error"].startswith("NonFiniteLossError: Training diverged at step")
    good = rows[("none", 1e-3)]
    assert good["state"] == "COMPLETE" and good["error"] is None

    report = print_report(run)
    with open(report["json"]) as f:
        table = json.load(f)
    assert table["best_trial"] == good["trial"]
    assert "--config.data.binarize=none" in report["command"]
    assert "--config.optimizer.learning_rate=0.001" in report["command"]


@pytest.mark.slow  # two sweeps (13 s)
def test_trial_value_final_or_best(tmp_path):
    # "Maximizing" the loss, which falls as the trial trains: its best value is its
    # first, not its last.
    values = {}
    for value in ("final", "best"):
        spec = write_sweep_file(
            _mkdir(tmp_path / value),
            f"""
            Sweep(
                config_file=QUICKSTART, config_arg="smoke",
                overrides={{**SMOKE, "train.num_steps": 30}},
                space={{"optimizer.learning_rate": Choice([1e-3])}},
                sampler="grid", direction="maximize", value="{value}",
            )
            """,
        )
        run = SweepRun(sweep_spec=spec, sweep_dir=str(tmp_path / value / "sweep"))
        assert run_sweep(run, num_workers=0)
        [row] = results_rows(_study(run))
        values[value] = row
    reported = [
        r["eval/loss"] for r in read_metrics(values["final"]["workdir"]) if "eval/loss" in r
    ]
    assert len(reported) == 3
    assert values["final"]["value"] == reported[-1]
    assert values["best"]["value"] == max(reported) > reported[-1]


@pytest.mark.slow  # a sweep (6 s)
def test_the_best_value_is_one_a_checkpoint_kept(tmp_path):
    """Evaluated at steps 10, 20, 30 but checkpointed at 20 and 30 only: step 10's
    (higher) value has no checkpoint, so the trial is not worth it."""
    spec = write_sweep_file(
        str(tmp_path),
        """
        Sweep(
            config_file=QUICKSTART, config_arg="smoke",
            overrides={**SMOKE, "train.num_steps": 30, "train.checkpoint_every": 20},
            space={"optimizer.learning_rate": Choice([1e-3])},
            sampler="grid", direction="maximize", value="best",
        )
        """,
    )
    run = SweepRun(sweep_spec=spec, sweep_dir=str(tmp_path / "sweep"))
    assert run_sweep(run, num_workers=0)
    [row] = results_rows(_study(run))
    reported = {r["step"]: r["eval/loss"] for r in read_metrics(row["workdir"]) if "eval/loss" in r}
    assert sorted(reported) == [10, 20, 30] and reported[10] > max(reported[20], reported[30])
    assert row["value"] == max(reported[20], reported[30])
    assert row["best_step"] in (20, 30)


def _mkdir(path):
    path.mkdir()
    return str(path)


@pytest.mark.slow  # a sweep of two trials (23 s)
def test_finished_trials_record_their_values_and_objective_for_tensorboard(tmp_path):
    spec = write_sweep_file(
        str(tmp_path),
        """
        Sweep(
            config_file=QUICKSTART, config_arg="smoke",
            overrides={**SMOKE, "train.num_steps": 10},
            space={"optimizer.learning_rate": Choice([1e-3, 3e-3])},
            sampler="grid",
        )
        """,
    )
    run = SweepRun(sweep_spec=spec, sweep_dir=str(tmp_path / "sweep"))
    assert run_sweep(run, num_workers=0)
    rows = results_rows(_study(run))
    assert sorted(row["optimizer.learning_rate"] for row in rows) == [1e-3, 3e-3]
    for row in rows:
        directory = os.path.join(row["workdir"], "tensorboard", "hparams")
        start = hparams_plugin_data(directory)["_hparams_/session_start_info"]
        recorded = start.session_start_info.hparams["optimizer.learning_rate"].number_value
        assert recorded == pytest.approx(row["optimizer.learning_rate"])
        logged = scalars(directory)
        assert logged["sweep/objective"] == [pytest.approx(row["value"])]
        assert logged["final/eval/loss"] == [pytest.approx(row["final/eval/loss"])]
