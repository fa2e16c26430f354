"""Small files that are either fully written or not at all.

A run can be killed at any instant (kill -9, preemption, power loss). Writing a file in
place can leave it half-written, and the next run would fail to parse it. These writers
write to a temporary file in the same directory, flush it to disk, and rename it over
the target: readers see the old contents or the new ones, never a mix. The file gets
the permissions a plain `open(path, "w")` would give it (0666 less the process's umask
at the time of writing, so 0644 usually), readable by collaborators on a shared file
system.
"""

from __future__ import annotations

import json
import os
import secrets
from typing import Any


def _create_temporary(path: str) -> tuple[int, str]:
    """A new, empty file next to `path`: (descriptor, its path). Created with mode 0666,
    which the kernel reduces by the current umask, as open() does (tempfile.mkstemp
    would create it 0600, and reading the umask to fix that means setting it, which
    races with other threads)."""
    directory = os.path.dirname(os.path.abspath(path))
    while True:
        tmp = os.path.join(directory, f"{os.path.basename(path)}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue


def write_text_atomically(path: str, text: str) -> None:
    """Replaces the file at `path` with `text` in one atomic rename."""
    fd, tmp = _create_temporary(path)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def write_json_atomically(path: str, value: Any, **dump_kwargs) -> None:
    """Replaces the file at `path` with `value` as JSON (`json.dumps(value, **dump_kwargs)`)."""
    write_text_atomically(path, json.dumps(value, **dump_kwargs))
