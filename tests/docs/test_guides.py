"""The four guides (adding a model, an objective, an evaluator, a data set) work as
written: their files, written from the page into a fresh folder outside the package,
and their commands, run in fresh processes (so the new component does not join this
process's registries). Each guide adds its component with one module and one config,
and no edit anywhere else: the repository is only linked, never written."""

import json
import os
import pathlib
import re
import shlex
import subprocess
import sys

import pytest

from tests.conftest import REPO

DOCS = REPO / "docs"


def _code_blocks(guide: pathlib.Path, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", guide.read_text(), flags=re.DOTALL)


def _write_files(guide: pathlib.Path, root: pathlib.Path) -> list[str]:
    """Writes every Python block that starts with `# file: <path>` under `root`."""
    written = []
    for block in _code_blocks(guide, "python"):
        first, _, body = block.partition("\n")
        match = re.fullmatch(r"# file: (\S+)", first)
        if match:
            path = root / match.group(1)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body)
            written.append(match.group(1))
    return written


def _commands(guide: pathlib.Path) -> list[list[str]]:
    """The guide's bash commands, as argument lists (environment assignments dropped),
    one per command (a block may hold several lines)."""
    commands = []
    for block in _code_blocks(guide, "bash"):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line)
            while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):  # PYTHONPATH=. and such
                words.pop(0)
            if words:
                commands.append(words)
    return commands


def _run(words: list[str], cwd: pathlib.Path, workdir: pathlib.Path):
    words = [re.sub(r"^--workdir=.*", f"--workdir={workdir}", w) for w in words]
    if words[0] == "python":
        words[0] = sys.executable
    # As a user runs them: one CPU device, not the test session's 8 fake ones.
    flags = re.sub(
        r"--xla_force_host_platform_device_count=\d+", "", os.environ.get("XLA_FLAGS", "")
    )
    env = dict(os.environ, PYTHONPATH=f"{cwd}{os.pathsep}{REPO}", XLA_FLAGS=flags.strip())
    return subprocess.run(words, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


# guide -> (the module it adds, the config it adds)
GUIDES = {
    "adding_a_model.md": ("my_models/tied_autoencoder.py", "my_configs/digits_tied_ae.py"),
    "adding_an_objective.md": ("my_objectives/info_vae.py", "my_configs/digits_info_vae.py"),
    "adding_an_evaluator.md": ("my_evaluators/knn_probe.py", "my_configs/digits_knn.py"),
    "adding_a_data_set.md": ("my_data/sines.py", "my_configs/sines_gru_ae.py"),
}


# Each guide trains in fresh processes (the model guide also runs the zoo's tests): the
# slow tier runs them all.
@pytest.mark.parametrize(
    "guide",
    [pytest.param(g, marks=pytest.mark.slow) for g in sorted(GUIDES)],
)
def test_the_guide_adds_its_component_with_one_module_and_one_config(guide, tmp_path):
    page = DOCS / guide
    assert _write_files(page, tmp_path) == list(GUIDES[guide])
    # The commands run from a folder holding the new files; the repository's
    # experiments/ and tests/ are reached through links, as if the files were in it.
    for name in ("experiments", "tests", "pyproject.toml"):
        (tmp_path / name).symlink_to(REPO / name)
    workdir = tmp_path / "run"
    commands = _commands(page)
    assert commands and commands[0][:2] == ["python", "experiments/train.py"]
    for words in commands:
        if words[1:3] == ["-m", "pytest"]:
            words = [*words, "-q", "-p", "no:cacheprovider"]
        result = _run(words, tmp_path, workdir)
        assert result.returncode == 0, (words, result.stdout[-2000:], result.stderr[-3000:])
        if words[1] == "experiments/train.py":
            lines = [json.loads(x) for x in (workdir / "metrics.jsonl").read_text().splitlines()]
            assert any("eval/loss" in line for line in lines)
            saved = json.loads((workdir / "config.json").read_text())
            overrides = [w for w in words if w.startswith("--config.")]
            for override in overrides:  # an option of the new component, from the CLI
                path, _, value = override.removeprefix("--config.").partition("=")
                section, field = path.split(".")
                assert str(saved[section][field]) == value, (override, saved[section])
        elif words[1] == "experiments/evaluate.py":
            record = json.loads((workdir / "results.json").read_text())
            wanted = [e.split(".")[0] for e in words if e.startswith("--evals=")]
            names = wanted[0].removeprefix("--evals=").split(",") if wanted else []
            for evaluator in names:
                assert any(m.startswith(f"{evaluator}/") for m in record["metrics"]), record
        elif words[1:3] == ["-m", "pytest"]:
            assert re.search(r"\b\d+ passed\b", result.stdout), result.stdout[-3000:]
            assert "failed" not in result.stdout and "error" not in result.stdout.lower()
