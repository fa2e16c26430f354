"""Files a run writes get 0666 less the umask (0644 under the usual 022), as open() gives,
so collaborators on a shared file system can read them."""

import contextlib
import os
import stat

import pytest

from aelab.core.atomic_files import write_json_atomically, write_text_atomically
from aelab.training import train


@contextlib.contextmanager
def umask(mask: int):
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_atomic_writes_take_the_umask_of_the_moment(tmp_path):
    with umask(0o022):
        write_text_atomically(str(tmp_path / "a.txt"), "a")
    with umask(0o027):
        write_json_atomically(str(tmp_path / "b.json"), {"b": 1})
        write_text_atomically(str(tmp_path / "a.txt"), "replaced")
    assert _mode(tmp_path / "b.json") == 0o640
    assert _mode(tmp_path / "a.txt") == 0o640  # The replacement's mode, not the old one's.
    assert (tmp_path / "a.txt").read_text() == "replaced"
    assert sorted(os.listdir(tmp_path)) == ["a.txt", "b.json"]  # No temporary file left.


@pytest.mark.slow
def test_a_run_writes_its_files_0644_under_umask_022(tmp_path, tiny_config):
    workdir = tmp_path / "run"
    with umask(0o022):
        train(tiny_config, str(workdir))
    for name in ("config.json", "run_info.json", "metrics.jsonl", "run.lock"):
        assert _mode(workdir / name) == 0o644, name
    events = [p for p in (workdir / "tensorboard").iterdir() if p.is_file()]
    assert events and all(_mode(p) == 0o644 for p in events)
