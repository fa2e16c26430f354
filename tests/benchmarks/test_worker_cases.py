"""Every benchmark case trains through benchmarks/worker.py's aelab side: its stand-in
models (registered by benchmarks/standin_models.py) follow the model contract and
declare their options, so a refactoring of the library cannot break a benchmark row
unseen."""

import math
import pathlib
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))

import cases  # noqa: E402
import worker  # noqa: E402


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(cases.CASES))
def test_every_case_trains_on_the_aelab_side(name):
    result = worker.measure_aelab(cases.CASES[name], seconds=0.0, overrides={}, num_devices=None)
    assert result["steps"] > 0 and result["steps_per_s"] > 0
    assert math.isfinite(result["final_loss"])
    assert result["flops_per_step"] > 0
