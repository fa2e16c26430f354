"""One run at a time per work directory.

Two runs writing the same checkpoints, metrics and images would corrupt each other (and
the second would delete the first one's in-progress checkpoint as a left-over temporary
directory). `WorkdirLock` holds an exclusive `filelock.FileLock` (an flock) on
`<workdir>/run.lock` for the whole run and writes who holds it (pid, host, start time,
command) into the file.

The kernel drops an flock when its process dies, however it dies (kill -9 included),
so a lock left by a dead run is stale by construction: the next run takes it over and
logs whose it was; there is no race between two runs taking over the same stale lock,
since flock grants it to exactly one. The file itself is never deleted (deleting a lock
file that another process is about to lock is the classic race), and a process waiting
for the lock never truncates it: the holder's record stays readable.

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

import filelock
from absl import logging

LOCK_FILE = "run.lock"


class WorkdirLockedError(RuntimeError):
    """Another live run holds the work directory's lock."""


def _parse_holder(text: bytes | str) -> dict:
    try:
        holder = json.loads(text or "{}")
    except ValueError:
        return {}  # Half-written by a run killed while taking the lock.
    return holder if isinstance(holder, dict) else {}


def _read_holder(path: str) -> dict:
    try:
        with open(path, "rb") as f:
            return _parse_holder(f.read())
    except OSError:
        return {}


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
        self.enabled = enabled
        self._lock: filelock.FileLock | None = None
        self._fd: int | None = None  # A duplicate of the lock's descriptor, to clear it.

    def _record_holder(self, fd: int) -> None:
        """Called by filelock with the locked file's descriptor: logs the previous holder
        (a run that died holding it) and writes this one."""
        previous = _parse_holder(os.pread(fd, 65536, 0))
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
        self._fd = os.dup(fd)

    def __enter__(self) -> WorkdirLock:
        if not self.enabled:
            return self
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        lock = filelock.FileLock(
            self.path, timeout=0, preserve_lock_file=True, on_acquired=self._record_holder
        )
        try:
            lock.acquire()
        except filelock.Timeout:
            raise WorkdirLockedError(
                f"Another run is using {os.path.dirname(self.path)}: "
                f"{_describe(_read_holder(self.path))} holds {self.path}. Wait for it to "
                "finish or stop it, or use another --workdir. (A lock whose process has "
                "died is released automatically.)"
            ) from None
        self._lock = lock
        return self

    def __exit__(self, *exc_info) -> None:
        if self._lock is None:
            return
        # An empty file marks a clean release: the next run has nothing to take over.
        os.ftruncate(self._fd, 0)
        os.close(self._fd)
        self._lock.release()
        self._lock = self._fd = None


def _without_passwords(command: str) -> str:
    """`command` with the password of any URL in it (`scheme://user:password@host`, e.g.
    a sweep worker's --storage) replaced by ***: the lock file and the messages that
    quote it must not carry secrets."""
    return re.sub(r"(\w[\w+.-]*://[^/\s:@]+:)[^@\s]+@", r"\1***@", command)
