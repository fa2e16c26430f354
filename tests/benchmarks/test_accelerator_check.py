"""benchmarks/accelerator_check.py: its --smoke run on the CPU writes every part (numbers
or a recorded error) and the table; without --smoke and without a GPU it stops with one
line; the Table 1 estimate follows its stated model."""

import json
import math
import os
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = REPO / "benchmarks" / "accelerator_check.py"
PARTS = ("tests", "throughput", "population", "likelihood", "iwae_protocol")


def _run(*flags: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    # One CPU device as a user's shell has (conftest gives this process 8 fake ones), and
    # random test images rather than preparing MNIST's records.
    env["XLA_FLAGS"] = env.get("XLA_FLAGS", "").replace(
        "--xla_force_host_platform_device_count=8", ""
    )
    env.pop("AELAB_DATA_DIR", None)
    return subprocess.run(
        [sys.executable, str(SCRIPT), *flags],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _numbers(tree):
    if isinstance(tree, dict):
        for value in tree.values():
            yield from _numbers(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from _numbers(value)
    elif isinstance(tree, int | float) and not isinstance(tree, bool):
        yield tree


def _measured_or_failed(record: dict, positive: tuple[str, ...]) -> None:
    if record.get("error"):
        assert isinstance(record["error"], str) and "\n" not in record["error"]
        return
    for key in positive:
        assert record[key] > 0, (key, record)


@pytest.mark.slow
def test_smoke_run_records_every_part_with_numbers_or_an_error(tmp_path):
    result = _run("--smoke", f"--out={tmp_path}")
    assert result.returncode == 0, result.stderr[-3000:]
    check = json.loads((tmp_path / "accelerator_cpu.json").read_text())
    assert (tmp_path / "accelerator_cpu.md").read_text().startswith("# accelerator check: cpu")
    assert check["smoke"] and set(check["parts"]) == set(PARTS)
    assert all(math.isfinite(x) and x >= 0 for x in _numbers(check["parts"]))
    parts = check["parts"]
    for name in PARTS:
        assert parts[name]["status"] in ("ok", "failed") and parts[name]["part_seconds"] > 0
        if parts[name]["status"] == "failed":
            assert parts[name]["error"]
    _measured_or_failed(parts["tests"], ("passed", "seconds"))
    for case in parts["throughput"].get("cases", {}).values():
        _measured_or_failed(case, ("compile_s", "steps_per_s", "examples_per_s", "flops_per_step"))
        assert case.get("mfu") is None  # no peak FLOP/s is known for a CPU
    for case in parts["population"].get("cases", {}).values():
        _measured_or_failed(case, ("sequential_member_steps_per_s", "vmap_member_steps_per_s"))
    _measured_or_failed(parts["likelihood"], ("seconds", "nll"))
    for row in parts["iwae_protocol"].get("rows", {}).values():
        _measured_or_failed(row, ("steps_per_s", "projected_hours"))
    # On a quiet 2-core CPU every part runs; each figure then exists.
    assert all(parts[name]["status"] == "ok" for name in PARTS), parts
    assert parts["iwae_protocol"]["table1_fit"]["hours_by_population_size"]
    assert {goal["goal"].split(" ")[0] for goal in check["goals"]} >= {
        "population",
        "conv",
        "IS-NLL",
        "compile",
        "device",
    }


# A child process importing JAX (8 s): in the slow tier, with the --smoke run.
@pytest.mark.slow
def test_without_an_accelerator_it_exits_2_with_one_line():
    result = _run()
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines()[-1] == (
        "no GPU visible to JAX: install with pip install -e '.[cuda12]' and check "
        "nvidia-smi; or run --smoke on the CPU"
    )


def test_table1_fit_is_the_smallest_population_that_trains_the_rows_in_time(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))
    from accelerator_parts import table1_fit

    rows = {"vae_k1": {"projected_hours": 1.0}, "iwae_k50": {"projected_hours": 2.0}}
    population = {"members": 2, "vmap_speedup": 3.0}
    # One after another: 2 + 1 hours. Side by side: the longer row at 3/2 its speed.
    fit = table1_fit(rows, population, max_hours=1.5)
    assert fit["hours_by_population_size"] == pytest.approx({1: 3.0, 2: 4 / 3})
    assert fit["population_size"] == 2
    assert table1_fit(rows, population, max_hours=1.0)["population_size"] is None
    failed = table1_fit({**rows, "vae_k5": {"error": "x"}}, population)
    assert failed["population_size"] is None and "vae_k5" in failed["error"]
