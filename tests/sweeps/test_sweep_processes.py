"""Whole sweeps through `experiments/sweep.py`: two worker processes on SQLite and on a
real PostgreSQL server, one worker killed with SIGKILL mid-trial, reruns, reports and
secrets."""

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
from aelab.sweeps.storage import close_storage
from aelab.sweeps.study import attempts_by_slot
from tests.conftest import REPO
from tests.sweeps.conftest import subprocess_env, write_sweep_file

SWEEP_SCRIPT = str(REPO / "experiments" / "sweep.py")


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


def _mid_trial_worker(sweep_dir, last_step: int) -> int | None:
    """The pid of a worker whose trial has committed its step-10 checkpoint but not its
    last one (it names itself in the trial's lock file), if any."""
    trials = sweep_dir / "trials"
    if not trials.is_dir():
        return None
    for trial in trials.iterdir():
        checkpoints = trial / "checkpoints"
        if (checkpoints / "10" / "commit_success.txt").exists() and not (
            checkpoints / str(last_step)
        ).exists():
            holder = (trial / ".trial.lock").read_text().strip()
            if holder and not (checkpoints / str(last_step)).exists():
                return int(holder.rsplit(":", 1)[1])
    return None


def _kill_a_worker_mid_trial(command, sweep_dir, log_path, last_step):
    """Runs `command`, SIGKILLs one worker mid-trial, waits for the sweep to end."""
    with open(log_path, "w") as log:
        sweep = subprocess.Popen(
            command, cwd=REPO, env=subprocess_env(), stdout=log, stderr=subprocess.STDOUT
        )
    try:
        pid, deadline = None, time.monotonic() + 600
        while pid is None:
            assert sweep.poll() is None, log_path.read_text()[-5000:]
            assert time.monotonic() < deadline, "no trial reached a checkpoint in time"
            pid = _mid_trial_worker(sweep_dir, last_step)
            time.sleep(0.02)
        os.kill(pid, signal.SIGKILL)
        # The other worker fails the silent trial after the grace period and resumes it.
        assert sweep.wait(timeout=900) == 0, log_path.read_text()[-5000:]
    finally:
        if sweep.poll() is None:
            sweep.kill()


def _check_retried_once_and_complete(study, num_trials, last_step):
    slots = attempts_by_slot(study)
    assert sorted(slots) == list(range(num_trials))
    assert all(attempts[-1].state == TrialState.COMPLETE for attempts in slots.values())
    # No completed trial is duplicated: exactly one COMPLETE attempt per slot.
    assert len(study.get_trials(states=(TrialState.COMPLETE,))) == num_trials
    [killed] = [attempts for attempts in slots.values() if len(attempts) > 1]
    assert [a.state for a in killed] == [TrialState.FAIL, TrialState.COMPLETE]
    assert killed[1].params == killed[0].params
    assert killed[1].user_attrs["resumed_from_step"] >= 10
    assert killed[1].user_attrs["steps"] == last_step


@pytest.mark.slow
def test_quickstart_sweep_two_workers_killed_worker_rerun_and_report(tmp_path):
    """configs/sweeps/quickstart.py:smoke (6 trials, 30 steps) with 2 workers on SQLite."""
    sweep_dir = tmp_path / "sweep"
    command = [
        sys.executable,
        SWEEP_SCRIPT,
        "--sweep=configs/sweeps/quickstart.py:smoke",
        f"--sweep_dir={sweep_dir}",
        "--workers=2",
        "--heartbeat_interval=1",
        "--grace_period=5",
    ]
    log_path = tmp_path / "log.txt"
    _kill_a_worker_mid_trial(command, sweep_dir, log_path, last_step=30)

    study = optuna.load_study(
        study_name="sweep", storage=open_storage(f"sqlite:///{sweep_dir}/study.db")
    )
    _check_retried_once_and_complete(study, 6, last_step=30)
    rows = results_rows(study)
    assert [r["trial"] for r in rows] == list(range(6))
    for row in rows:
        assert row["state"] == "COMPLETE" and row["steps"] == 30
        assert row["final/eval/loss"] == row["value"] > 0
        assert os.path.isdir(os.path.join(row["workdir"], "checkpoints", "30"))
    assert sorted(r["attempts"] for r in rows) == [1, 1, 1, 1, 1, 2]
    with open(sweep_dir / "sweep_results.csv") as f:
        lines = f.read().splitlines()
    assert len(lines) == 7  # header + 6 trials
    assert lines[0].startswith("trial,state,attempts,optimizer.learning_rate,model.latent_dim")
    for plot in ("objective_vs_params.png", "history.png", "parallel_coordinates.png"):
        assert (sweep_dir / "plots" / plot).stat().st_size > 1000
    assert "python experiments/train.py --config=configs/quickstart.py:smoke" in (
        log_path.read_text()
    )

    # Rerunning the finished sweep reruns nothing.
    before = len(study.trials)
    code, log = _run(command, log_path)
    assert code == 0, log[-3000:]
    assert len(study.trials) == before

    # --report regenerates everything from the study alone.
    (sweep_dir / "sweep_results.csv").unlink()
    code, log = _run(
        [sys.executable, SWEEP_SCRIPT, f"--sweep_dir={sweep_dir}", "--report"],
        tmp_path / "report.txt",
    )
    assert code == 0, log[-3000:]
    assert (sweep_dir / "sweep_results.csv").exists()
    assert "| 5 | COMPLETE |" in log


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) counts as stopped.
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(") ", 1)[1][0] != "Z"


@pytest.mark.slow
def test_sigterm_to_the_sweep_stops_its_workers(tmp_path):
    # Forty trials: workers left running would go on for minutes.
    spec = write_sweep_file(
        tmp_path,
        """
        Sweep(
            config_file=QUICKSTART, config_arg="smoke", overrides=SMOKE,
            space={"optimizer.learning_rate": Float(1e-3, 2e-3)},
            sampler="random", num_trials=40,
        )
        """,
    )
    sweep_dir = tmp_path / "sweep"
    command = [sys.executable, SWEEP_SCRIPT, f"--sweep={spec}", f"--sweep_dir={sweep_dir}"]
    log_path = tmp_path / "log.txt"
    with open(log_path, "w") as log:
        sweep = subprocess.Popen(
            [*command, "--workers=2"],
            cwd=REPO,
            env=subprocess_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 300
        while _mid_trial_worker(sweep_dir, last_step=30) is None:
            assert sweep.poll() is None, log_path.read_text()[-5000:]
            assert time.monotonic() < deadline, "no trial reached a checkpoint in time"
            time.sleep(0.02)
        workers = [
            int(line.rsplit("(pid ", 1)[1].split(")")[0])
            for line in log_path.read_text().splitlines()
            if "Started sweep worker" in line
        ]
        assert len(workers) == 2
        sweep.send_signal(signal.SIGTERM)
        assert sweep.wait(timeout=120) != 0
        deadline = time.monotonic() + 60
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in workers), "a worker outlived its sweep"
    finally:
        if sweep.poll() is None:
            sweep.kill()
    study = optuna.load_study(
        study_name="sweep", storage=open_storage(f"sqlite:///{sweep_dir}/study.db")
    )
    finished = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(finished) < 40
    # The trials the workers were running were given back, to be resumed by a rerun.
    interrupted = [t for t in study.trials if t.user_attrs.get("error") == "interrupted"]
    assert interrupted


def _files_containing(directory, secret: bytes) -> list[str]:
    found = []
    for root, _, files in os.walk(directory):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                if secret in f.read():
                    found.append(path)
    return found


@pytest.mark.slow  # two worker processes, one killed, and a rerun: 84 s on CI
def test_postgres_sweep_killed_worker_rerun_and_no_password_leak(tmp_path, postgres_url):
    spec = write_sweep_file(
        tmp_path,
        """
        Sweep(
            config_file=QUICKSTART, config_arg="smoke",
            overrides={**SMOKE, "train.num_steps": 30},
            space={"optimizer.learning_rate": Float(1e-3, 3e-3, log=True)},
            sampler="random", num_trials=3,
        )
        """,
    )
    sweep_dir = tmp_path / "sweep"
    study_name = f"test_kill_{uuid.uuid4().hex[:8]}"
    command = [
        sys.executable,
        SWEEP_SCRIPT,
        f"--sweep={spec}",
        f"--sweep_dir={sweep_dir}",
        "--workers=2",
        "--heartbeat_interval=1",
        "--grace_period=5",
        f"--storage={postgres_url}",
        f"--study_name={study_name}",
    ]
    log_path = tmp_path / "log.txt"
    _kill_a_worker_mid_trial(command, sweep_dir, log_path, last_step=30)

    storage = open_storage(postgres_url)
    try:
        study = optuna.load_study(study_name=study_name, storage=storage)
        _check_retried_once_and_complete(study, 3, last_step=30)
        before = len(study.trials)
        code, log = _run(command, log_path)
        assert code == 0, log[-3000:]
        assert len(study.trials) == before
    finally:
        close_storage(storage)

    password = postgres_url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    assert password
    # The password reaches neither the logs nor any file the sweep wrote (configs,
    # metrics, TensorBoard events, results tables).
    assert password not in log_path.read_text()
    assert _files_containing(sweep_dir, password.encode()) == []
    assert "aelab:***@" in (sweep_dir / "sweep_run.json").read_text()


def test_storage_error_does_not_show_the_password():
    with pytest.raises(ConnectionError) as error:
        open_storage("postgresql://aelab:hunter2secret@127.0.0.1:1/nowhere")
    assert "hunter2secret" not in str(error.value)
    assert "aelab:***@127.0.0.1:1/nowhere" in str(error.value)
