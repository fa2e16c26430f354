"""benchmarks/adversarial_step.py's timing (adversarial_timing.py) on the tiny FactorVAE
test config: both steps are timed and their ratio is reported against the goal."""

import pathlib
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))

import adversarial_timing  # noqa: E402

from aelab.config import load_config_file  # noqa: E402


@pytest.mark.slow  # compiles and times two train steps (~15 s on the shared CPU)
def test_the_benchmark_times_both_steps_and_reports_their_ratio():
    config = load_config_file(str(REPO / "tests" / "training" / "adversarial_config.py"))
    config.data.batch_size = 16
    result = adversarial_timing.measure(config, steps=2, repetitions=2)
    one, two = result["one_optimizer"], result["two_optimizers"]
    assert len(one["repetitions"]) == len(two["repetitions"]) == 2
    assert result["ratio"] == pytest.approx(one["steps_per_sec"] / two["steps_per_sec"])
    assert result["meets_goal"] == (result["ratio"] <= adversarial_timing.GOAL_RATIO)
    latent = config.model.latent_dim  # the discriminator: latent -> 32 -> 32 -> 1
    assert two["discriminator_parameters"] == latent * 32 + 32 + 32 * 32 + 32 + 32 + 1


def test_the_benchmark_refuses_a_config_without_a_discriminator():
    config = load_config_file(str(REPO / "configs" / "quickstart.py"))
    with pytest.raises(ValueError, match="trains no discriminator"):
        adversarial_timing.measure(config, steps=1, repetitions=1)
