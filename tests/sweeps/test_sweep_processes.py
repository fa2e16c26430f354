"""Whole sweeps through `experiments/sweep.py`: worker processes, SQLite and PostgreSQL,
a worker killed with SIGKILL mid-trial, reruns, reports and secrets."""

import os
import signal
import subprocess
import sys
import time
import uuid

import optuna
import pytest
from optuna.trial import TrialState

from aelab.sweeps import open_storage, results_rows
from aelab.sweeps.study import attempts_by_slot
from tests.conftest import REPO
from tests.sweeps.conftest import subprocess_env, write_sweep_file

SWEEP_SCRIPT = str(REPO / "experiments" / "sweep.py")


def _sweep_command(spec, sweep_dir, *extra):
    return [sys.executable, SWEEP_SCRIPT, f"--sweep={spec}", f"--sweep_dir={sweep_dir}", *extra]


def _run(command, log_path, timeout=900):
    with open(log_path, "a") as log:
        result = subprocess.run(
            command,
            cwd=REPO,
            env=subprocess_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
    with open(log_path) as f:
        return result.returncode, f.read()


def test_quickstart_smoke_sweep_with_two_workers(tmp_path):
    sweep_dir = tmp_path / "sweep"
    code, log = _run(
        _sweep_command("configs/sweeps/quickstart.py:smoke", sweep_dir, "--workers=2"),
        tmp_path / "log.txt",
    )
    assert code == 0, log[-5000:]

    storage = open_storage(f"sqlite:///{sweep_dir}/study.db")
    study = optuna.load_study(study_name="sweep", storage=storage)
    rows = results_rows(study)
    assert [r["trial"] for r in rows] == list(range(6))
    assert {r["state"] for r in rows} == {"COMPLETE"}
    assert len(study.trials) == 6
    for row in rows:
        assert row["steps"] == 30
        assert row["final/eval/loss"] == row["value"] > 0
        assert os.path.isdir(os.path.join(row["workdir"], "checkpoints", "30"))
    with open(sweep_dir / "sweep_results.csv") as f:
        lines = f.read().splitlines()
    assert len(lines) == 7  # header + 6 trials
    assert lines[0].startswith("trial,state,attempts,optimizer.learning_rate,model.latent_dim")
    for plot in ("objective_vs_params.png", "history.png", "parallel_coordinates.png"):
        assert (sweep_dir / "plots" / plot).stat().st_size > 1000
    assert "python experiments/train.py --config=configs/quickstart.py:smoke" in log

    # --report regenerates everything from the study alone.
    (sweep_dir / "sweep_results.csv").unlink()
    code, log = _run(
        [sys.executable, SWEEP_SCRIPT, f"--sweep_dir={sweep_dir}", "--report"],
        tmp_path / "report.txt",
    )
    assert code == 0, log[-3000:]
    assert (sweep_dir / "sweep_results.csv").exists()
    assert "| 5 | COMPLETE |" in log


def _files_containing(directory, secret: bytes) -> list[str]:
    found = []
    for root, _, files in os.walk(directory):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                if secret in f.read():
                    found.append(path)
    return found


def _checkpointed_running_trial(study):
    """A running trial that has saved a checkpoint before its last step, if any."""
    for trial in study.get_trials(states=(TrialState.RUNNING,)):
        workdir = trial.user_attrs.get("workdir")
        if not workdir or "worker" not in trial.user_attrs:
            continue
        steps = os.path.join(workdir, "checkpoints")
        saved = os.listdir(steps) if os.path.isdir(steps) else []
        if any(s in saved for s in ("10", "20")) and "40" not in saved:
            return trial
    return None


def _kill_a_worker_mid_trial_then_rerun(tmp_path, storage_url, study_name):
    spec = write_sweep_file(
        tmp_path,
        """
        Sweep(
            config_file=QUICKSTART, config_arg="smoke",
            overrides={**SMOKE, "train.num_steps": 40},
            space={"optimizer.learning_rate": Float(1e-3, 3e-3, log=True)},
            sampler="random", num_trials=4,
        )
        """,
    )
    sweep_dir = tmp_path / "sweep"
    command = _sweep_command(
        spec,
        sweep_dir,
        "--workers=2",
        "--heartbeat_interval=1",
        "--grace_period=5",
        f"--study_name={study_name}",
        *([f"--storage={storage_url}"] if not storage_url.startswith("sqlite") else []),
    )
    log_path = tmp_path / "log.txt"
    with open(log_path, "w") as log:
        sweep = subprocess.Popen(
            command, cwd=REPO, env=subprocess_env(), stdout=log, stderr=subprocess.STDOUT
        )
    try:
        victim = study = None
        deadline = time.monotonic() + 600
        while victim is None:
            assert sweep.poll() is None, log_path.read_text()[-5000:]
            assert time.monotonic() < deadline, "no trial reached a checkpoint in time"
            # Trial directories appear once the sweep has prepared its study.
            if study is None and (sweep_dir / "trials").exists():
                study = optuna.load_study(study_name=study_name, storage=open_storage(storage_url))
            if study is not None:
                victim = _checkpointed_running_trial(study)
            time.sleep(0.1)
        worker_pid = int(victim.user_attrs["worker"].rsplit(":", 1)[1])
        os.kill(worker_pid, signal.SIGKILL)
        # The other worker fails the silent trial after the grace period and resumes it.
        assert sweep.wait(timeout=900) == 0, log_path.read_text()[-5000:]
    finally:
        if sweep.poll() is None:
            sweep.kill()

    study = optuna.load_study(study_name=study_name, storage=open_storage(storage_url))
    slots = attempts_by_slot(study)
    assert sorted(slots) == [0, 1, 2, 3]
    assert all(attempts[-1].state == TrialState.COMPLETE for attempts in slots.values())
    # No completed trial is duplicated: one COMPLETE attempt per slot.
    assert len(study.get_trials(states=(TrialState.COMPLETE,))) == 4
    killed = slots[victim.number]
    assert [a.state for a in killed] == [TrialState.FAIL, TrialState.COMPLETE]
    assert killed[1].params == killed[0].params
    assert killed[1].user_attrs["resumed_from_step"] >= 10
    assert killed[1].user_attrs["steps"] == 40

    # Rerunning the finished sweep reruns nothing.
    before = len(study.trials)
    code, log = _run(command, log_path)
    assert code == 0, log[-3000:]
    assert len(study.trials) == before
    return sweep_dir, log_path


def test_killed_worker_is_retried_from_checkpoints_sqlite(tmp_path):
    sweep_dir = tmp_path / "sweep"
    _kill_a_worker_mid_trial_then_rerun(tmp_path, f"sqlite:///{sweep_dir}/study.db", "sweep")


def test_killed_worker_is_retried_from_checkpoints_postgres(tmp_path, postgres_url):
    study_name = f"test_kill_{uuid.uuid4().hex[:8]}"
    sweep_dir, log_path = _kill_a_worker_mid_trial_then_rerun(tmp_path, postgres_url, study_name)
    password = postgres_url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    assert password
    # The password reaches neither the logs nor any file the sweep wrote.
    assert password not in log_path.read_text()
    assert _files_containing(sweep_dir, password.encode()) == []
    assert "aelab:***@" in (sweep_dir / "sweep_run.json").read_text()


def test_storage_error_does_not_show_the_password():
    url = "postgresql://aelab:hunter2secret@127.0.0.1:1/nowhere"
    with pytest.raises(ConnectionError) as error:
        open_storage(url)
    assert "hunter2secret" not in str(error.value)
    assert "aelab:***@127.0.0.1:1/nowhere" in str(error.value)
