"""docs/adding_a_model.md works as written: its files, its training command and its test
command, run in fresh processes (so the example model does not join this process's
registry)."""

import json
import os
import pathlib
import re
import shlex
import subprocess
import sys

from tests.conftest import REPO

GUIDE = REPO / "docs" / "adding_a_model.md"


def _code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", GUIDE.read_text(), flags=re.DOTALL)


def _write_files(root: pathlib.Path) -> list[str]:
    """Writes every Python block that starts with `# file: <path>` under `root`."""
    written = []
    for block in _code_blocks("python"):
        first, _, body = block.partition("\n")
        match = re.fullmatch(r"# file: (\S+)", first)
        if match:
            path = root / match.group(1)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body)
            written.append(match.group(1))
    return written


def _commands() -> list[list[str]]:
    """The guide's bash commands, as argument lists (environment assignments dropped)."""
    commands = []
    for block in _code_blocks("bash"):
        words = shlex.split(block.replace("\\\n", " "))
        while re.fullmatch(r"[A-Z_]+=\S*", words[0]):  # PYTHONPATH=. and the like
            words.pop(0)
        commands.append(words)
    return commands


def _run(words: list[str], cwd: pathlib.Path, **replacements) -> subprocess.CompletedProcess:
    words = [replacements.get(w, w) for w in words]
    if words[0] == "python":
        words[0] = sys.executable
    env = dict(os.environ, PYTHONPATH=f"{cwd}{os.pathsep}{REPO}")
    return subprocess.run(words, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def test_the_guide_adds_a_model_that_trains_and_passes_the_zoo_tests(tmp_path):
    written = _write_files(tmp_path)
    assert written == ["my_models/tied_autoencoder.py", "my_configs/digits_tied_ae.py"]
    # The commands run from a directory holding the new files; the repository's
    # experiments/ and tests/ are reached through links, as if the files were in it.
    for name in ("experiments", "tests", "pyproject.toml"):
        (tmp_path / name).symlink_to(REPO / name)
    train, test = _commands()
    assert train[:2] == ["python", "experiments/train.py"]
    workdir = tmp_path / "run"
    workdir_flag = next(w for w in train if w.startswith("--workdir="))
    result = _run(train, tmp_path, **{workdir_flag: f"--workdir={workdir}"})
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]
    assert any("eval/loss" in line for line in lines)

    assert test[:4] == ["python", "-m", "pytest", "-p"]
    result = _run([*test, "-q", "-p", "no:cacheprovider"], tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    assert re.search(r"\b4 passed\b", result.stdout), result.stdout[-3000:]
