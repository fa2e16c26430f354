"""One run per work directory; a lock left by a dead run is taken over."""

import json
import os
import pathlib
import re
import signal
import socket
import subprocess
import sys

import pytest

from aelab.evaluation import train_and_evaluate
from aelab.training import WorkdirLockedError, workdir_lock
from aelab.training.workdir_lock import WorkdirLock

# A process that takes the lock and waits; loads the module from its file so that it
# starts in a fraction of a second (no JAX import).
HOLDER = """
import importlib.util, sys, time
spec = importlib.util.spec_from_file_location("workdir_lock", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
module.WorkdirLock(sys.argv[2]).__enter__()
print("locked", flush=True)
time.sleep(600)
"""


@pytest.fixture
def holder(tmp_path):
    """A live subprocess holding the lock of tmp_path / 'run'; killed at the end."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, workdir_lock.__file__, str(tmp_path / "run")],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "locked"
    yield process
    if process.poll() is None:
        process.kill()
    process.wait()
    process.stdout.close()


def test_second_lock_is_refused_naming_the_holder(tmp_path):
    with WorkdirLock(str(tmp_path)):
        holder = re.escape(f"pid {os.getpid()} on host {socket.gethostname()}")
        with pytest.raises(WorkdirLockedError, match=holder):
            WorkdirLock(str(tmp_path)).__enter__()
    with WorkdirLock(str(tmp_path)):  # Released: free again.
        pass
    assert (tmp_path / "run.lock").read_text() == ""  # A clean release leaves nothing to take over.


def test_lock_of_a_live_process_is_refused_and_of_a_killed_one_taken_over(tmp_path, holder, caplog):
    workdir = str(tmp_path / "run")
    with pytest.raises(WorkdirLockedError, match=rf"pid {holder.pid} on host"):
        WorkdirLock(workdir).__enter__()
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    recorded = json.loads((tmp_path / "run" / "run.lock").read_text())
    assert recorded["pid"] == holder.pid  # The dead run's record is still there ...
    with WorkdirLock(workdir):  # ... but its lock died with it.
        assert json.loads((tmp_path / "run" / "run.lock").read_text())["pid"] == os.getpid()
    assert f"Taking over the lock of pid {holder.pid}" in caplog.text


def test_half_written_lock_file_is_taken_over(tmp_path):
    pathlib.Path(tmp_path, "run.lock").write_text('{"pid": 12')
    with WorkdirLock(str(tmp_path)):
        pass


def test_training_is_refused_while_another_run_holds_the_workdir(tmp_path, tiny_config, holder):
    with pytest.raises(WorkdirLockedError, match=rf"Another run is using .*pid {holder.pid}"):
        train_and_evaluate(tiny_config, str(tmp_path / "run"))
    assert os.listdir(tmp_path / "run") == ["run.lock"]  # Nothing else was touched.


def test_the_recorded_command_carries_no_url_password():
    from aelab.training.workdir_lock import _without_passwords

    command = "sweep.py --storage=postgresql://aelab:s3cret@db:5432/sweeps --workers=2"
    assert _without_passwords(command) == (
        "sweep.py --storage=postgresql://aelab:***@db:5432/sweeps --workers=2"
    )
    assert _without_passwords("train.py --workdir=/tmp/run") == "train.py --workdir=/tmp/run"
