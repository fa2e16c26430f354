r"""Benchmark: the two-optimizer train step against the one-optimizer step of the same
model.

  python benchmarks/adversarial_step.py                    # configs/dsprites_factor_vae.py
  python benchmarks/adversarial_step.py --config=configs/fashion_mnist_vqgan.py \
      --steps=10 --output=benchmarks/results/adversarial_step_vqgan.json
  python benchmarks/adversarial_step.py --config=configs/fashion_mnist_vqgan.py:full \
      --steps=5 --output=benchmarks/results/adversarial_step_vqgan_full.json
  python benchmarks/adversarial_step.py --config=tests/training/adversarial_config.py \
      --steps=20 --repetitions=3 --output=/tmp/adversarial_step.json   # tiny, seconds

`--config` is a config file with an optional argument (`path[:arg]`, as train.py's);
its objective must train a discriminator (factor_vae, vqgan, kl_autoencoder). The
one-optimizer step trains the same model on the same objective called without its
discriminator (the model's own loss: FactorVAE's ELBO, VQGAN's reconstruction and
commitment), so the ratio is what the discriminator (its forward in the model's loss,
the adaptive weight's extra backward passes where the objective has one, its own loss,
gradient and Adam update) costs. Both are jitted on one device with the state donated
and timed on the same synthetic batch ({0, 1} pixels): --repetitions runs of --steps
steps after a warm-up call that compiles. Reports the median steps/s of each and their
ratio against the goal (<= 2.2x). Writes one JSON object to --output (default
benchmarks/results/adversarial_step.json) and prints it.
"""

import datetime
import json
import os
import platform
import subprocess
import sys
import time

import jax
from absl import app, flags

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(REPO, "benchmarks"), REPO]

from adversarial_timing import measure  # noqa: E402

from aelab.config import load_config_file  # noqa: E402

_CONFIG = flags.DEFINE_string(
    "config", os.path.join(REPO, "configs", "dsprites_factor_vae.py"), "An adversarial config."
)
_STEPS = flags.DEFINE_integer("steps", 50, "Steps per timed repetition.")
_REPETITIONS = flags.DEFINE_integer("repetitions", 5, "Timed repetitions of each step.")
_OUTPUT = flags.DEFINE_string(
    "output", os.path.join(REPO, "benchmarks", "results", "adversarial_step.json"), "JSON file."
)


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return ""


def main(argv):
    del argv
    path, _, arg = _CONFIG.value.partition(":")
    config = load_config_file(path, arg or None)
    started = time.perf_counter()
    result = measure(config, steps=_STEPS.value, repetitions=_REPETITIONS.value)
    result.update(
        config=os.path.relpath(path, REPO) + (f":{arg}" if arg else ""),
        batch_size=int(config.data.batch_size),
        steps=_STEPS.value,
        wall_seconds=round(time.perf_counter() - started, 1),
        device=jax.devices()[0].device_kind,
        machine=f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        commit=_commit(),
        date=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    )
    os.makedirs(os.path.dirname(os.path.abspath(_OUTPUT.value)), exist_ok=True)
    with open(_OUTPUT.value, "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    app.run(main)
