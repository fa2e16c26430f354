"""Small files that are either fully written or not at all.

A run can be killed at any instant (kill -9, preemption, power loss). Writing a file in
place can leave it half-written, and the next run would fail to parse it. These writers
write to a temporary file in the same directory, flush it to disk, and rename it over
the target: readers see the old contents or the new ones, never a mix. The file gets
the permissions a plain `open(path, "w")` would give it (0666 less the umask, so 0644
usually), readable by collaborators on a shared file system.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any


def _default_file_mode() -> int:
    # Reading the umask means setting it; done once, at import, before threads start.
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


_FILE_MODE = _default_file_mode()


def write_text_atomically(path: str, text: str) -> None:
    """Replaces the file at `path` with `text` in one atomic rename."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=os.path.basename(path) + ".", suffix=".tmp")
    try:
        # mkstemp creates the file 0600; give it what open() would have.
        os.fchmod(fd, _FILE_MODE)
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
