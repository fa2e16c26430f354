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


@pytest.mark.slow  # compiles and times two conv train steps (~20 s on the shared CPU)
def test_the_benchmark_times_a_vqgan_step_against_the_same_generator_alone():
    # The fashion_mnist_vqgan smoke config on the embedded 8x8 digits, narrowed: the
    # one-optimizer step is the same objective without its discriminator.
    config = load_config_file(str(REPO / "configs" / "fashion_mnist_vqgan.py"), "smoke")
    config.data.name = "digits"
    config.data.batch_size = 8
    config.model.channels = (8,)
    config.objective.discriminator_channels = 4
    config.objective.discriminator_layers = 1
    result = adversarial_timing.measure(config, steps=2, repetitions=1)
    assert result["one_optimizer"]["steps_per_sec"] > 0
    assert result["two_optimizers"]["steps_per_sec"] > 0
    # PatchGAN 1 -> 4 (stride 2) -> 8 (stride 1, group norm) -> 1, 4x4 kernels.
    convs = (16 * 1 * 4 + 4) + (16 * 4 * 8 + 8) + (16 * 8 * 1 + 1)
    assert result["two_optimizers"]["discriminator_parameters"] == convs + 2 * 8
