"""One run at a time per work directory.

Two runs writing the same checkpoints, metrics and images would corrupt each other (and
the second would delete the first one's in-progress checkpoint as a left-over temporary
directory). `WorkdirLock` holds an exclusive `flock` on `<workdir>/run.lock` for the
whole run and writes who holds it (pid, host, start time, command) into the file.

The kernel drops an flock when its process dies, however it dies (kill -9 included),
so a lock left by a dead run is stale by construction: the next run takes it over and
logs whose it was; there is no race between two runs taking over the same stale lock,
since flock grants it to exactly one. The file itself is never deleted (deleting a lock
file that another process is about to lock is the classic race).

File systems: flock works on local disks and on NFSv4 / Lustre / GPFS mounts that
support it. On a mount where flock is local to each client (NFS with `local_lock=flock`
or `nolock`), two hosts would not see each other's lock; the pid/host record still
tells you who ran last. Only process 0 of a multi-process job takes the lock.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import socket
import sys

from absl import logging

try:
    import fcntl
except ImportError:  # Windows: no flock; runs are not protected there.
    fcntl = None

LOCK_FILE = "run.lock"


class WorkdirLockedError(RuntimeError):
    """Another live run holds the work directory's lock."""


def _read_holder(path: str) -> dict:
    try:
        with open(path) as f:
            holder = json.loads(f.read() or "{}")
        return holder if isinstance(holder, dict) else {}
    except (OSError, ValueError):
        return {}  # Empty, or half-written by a run killed while taking the lock.


def _describe(holder: dict) -> str:
    if not holder:
        return "an unknown process"
    return (
        f"pid {holder.get('pid')} on host {holder.get('host')} "
        f"(started {holder.get('started')}: {holder.get('command')})"
    )


class WorkdirLock:
    """A context manager holding the exclusive lock of `workdir` (created if missing).

    Raises:
      WorkdirLockedError: on entry, when another live process holds the lock; the
        message names its pid, host and command.
    """

    def __init__(self, workdir: str, *, enabled: bool = True):
        self.path = os.path.join(os.path.abspath(workdir), LOCK_FILE)
        self.enabled = enabled and fcntl is not None
        self._fd: int | None = None
        if enabled and fcntl is None:
            logging.warning("No flock on this platform: %s is not protected by a lock.", workdir)

    def __enter__(self) -> WorkdirLock:
        if not self.enabled:
            return self
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                holder = _read_holder(self.path)
                raise WorkdirLockedError(
                    f"Another run is using {os.path.dirname(self.path)}: {_describe(holder)} "
                    f"holds {self.path}. Wait for it to finish or stop it, or use another "
                    "--workdir. (A lock whose process has died is released automatically.)"
                ) from None
            # Someone may have deleted and recreated the file between open and flock:
            # then this lock is on an orphaned inode; try again on the current file.
            try:
                same_file = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same_file = False
            if same_file:
                break
            os.close(fd)
        previous = _read_holder(self.path)
        if previous:
            logging.warning(
                "Taking over the lock of %s, a run that is no longer running (it was "
                "killed, or crashed before releasing it).",
                _describe(previous),
            )
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "command": _without_passwords(" ".join(sys.argv)),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc_info) -> None:
        if self._fd is None:
            return
        # An empty file marks a clean release: the next run has nothing to take over.
        os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None


def _without_passwords(command: str) -> str:
    """`command` with the password of any URL in it (`scheme://user:password@host`, e.g.
    a sweep worker's --storage) replaced by ***: the lock file and the messages that
    quote it must not carry secrets."""
    return re.sub(r"(\w[\w+.-]*://[^/\s:@]+:)[^@\s]+@", r"\1***@", command)
