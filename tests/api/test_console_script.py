"""The `aelab` console script: one program per command, the experiments/ programs'."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO


def _aelab(*args, cwd=REPO):
    return subprocess.run(
        [sys.executable, "-m", "aelab.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "JAX_PLATFORMS": "cpu"},
    )


def test_without_a_command_it_lists_the_commands():
    result = _aelab()
    assert result.returncode == 2
    for command in ("train", "evaluate", "sweep", "export", "codec"):
        assert f"  {command} " in result.stdout
    assert _aelab("--help").returncode == 0


def test_an_unknown_command_is_one_line_and_the_list():
    result = _aelab("trian")
    assert result.returncode == 2
    assert "unknown command 'trian'" in result.stderr


@pytest.mark.slow
def test_a_command_runs_its_program_with_its_errors(tmp_path):
    result = _aelab("evaluate", f"--workdir={tmp_path}")
    assert result.returncode == 1
    assert f"No config.json in {tmp_path}" in result.stderr


@pytest.mark.slow
def test_train_evaluate_export(tmp_path):
    workdir = tmp_path / "run"
    trained = _aelab("train", "--config=configs/quickstart.py:smoke", f"--workdir={workdir}")
    assert trained.returncode == 0, trained.stderr[-2000:]
    evaluated = _aelab("evaluate", f"--workdir={workdir}", "--evals=reconstruction")
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    results = json.loads((workdir / "results.json").read_text())
    assert results["step"] == 20
    out = tmp_path / "exported"
    exported = _aelab("export", str(workdir), str(out))
    assert exported.returncode == 0, exported.stderr[-2000:]
    assert (out / "params.safetensors").is_file() and "reconstruction" in (
        out / "README.md"
    ).read_text()
    again = _aelab("export", str(workdir), str(out))
    assert again.returncode == 1 and "--overwrite" in again.stderr
