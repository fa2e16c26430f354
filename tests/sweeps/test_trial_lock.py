"""A trial's run is held by one live process, whose host and pid its lock file names."""

import os
import socket

import filelock
import pytest

from aelab.sweeps.worker import _trial_lock


def test_the_trial_lock_names_its_holder_and_a_waiter_leaves_the_record(tmp_path):
    workdir = str(tmp_path / "trial_0000")
    path = os.path.join(workdir, ".trial.lock")
    record = f"{socket.gethostname()}:{os.getpid()}\n"
    with _trial_lock(workdir):
        with open(path) as f:
            assert f.read() == record
        with pytest.raises(filelock.Timeout):
            filelock.FileLock(path, timeout=0).acquire()
        with open(path) as f:
            assert f.read() == record  # The failed attempt did not truncate it.
    with _trial_lock(workdir):  # Released: free again, and the file was kept.
        pass
    assert os.listdir(workdir) == [".trial.lock"]
