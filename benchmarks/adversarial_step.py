r"""Benchmark: the two-optimizer train step against the one-optimizer step of the same
model.

  python benchmarks/adversarial_step.py                    # configs/dsprites_factor_vae.py
  python benchmarks/adversarial_step.py --config=tests/training/adversarial_config.py \
      --steps=20 --repetitions=3 --output=/tmp/adversarial_step.json   # tiny, seconds

The config's objective must train a discriminator (factor_vae). The one-optimizer step
trains the same model on the same loss without the discriminator's terms (objective
"elbo" with the config's likelihood), so the ratio is what the discriminator (its
forward in the model's loss, its own loss, gradient and Adam update) costs. Both are
jitted on one device with the state donated and timed on the same synthetic batch
({0, 1} pixels): --repetitions runs of --steps steps after a warm-up call that compiles.
Reports the median steps/s of each and their ratio against the goal (<= 2.2x). Writes
one JSON object to --output (default benchmarks/results/adversarial_step.json) and
prints it.
"""

import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import jax
import ml_collections
import numpy as np
from absl import app, flags

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from aelab.config import load_config_file  # noqa: E402
from aelab.objectives import build_objective  # noqa: E402
from aelab.objectives.adversarial import is_adversarial  # noqa: E402
from aelab.training.experiment import build_run_spec  # noqa: E402
from aelab.training.mesh import make_data_mesh  # noqa: E402
from aelab.training.optimizers import build_discriminator_optimizer, build_optimizer  # noqa: E402
from aelab.training.state import create_train_state_with_discriminator  # noqa: E402
from aelab.training.step import make_adversarial_train_step, make_train_step  # noqa: E402

GOAL_RATIO = 2.2

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


def _steps_per_second(step, state, batch, steps: int, repetitions: int) -> tuple[float, list]:
    """Median steps/s over `repetitions` runs of `steps` calls, after one compiling call."""
    state, metrics = step(state, batch)
    jax.block_until_ready(metrics)
    rates = []
    for _ in range(repetitions):
        start = time.perf_counter()
        for _ in range(steps):
            state, metrics = step(state, batch)
        jax.block_until_ready((state, metrics))
        rates.append(steps / (time.perf_counter() - start))
    return statistics.median(rates), rates


def measure(config, *, steps: int, repetitions: int) -> dict:
    """{"one_optimizer": {...}, "two_optimizers": {...}, "ratio": ...} for `config`."""
    spec = build_run_spec(config)
    if not is_adversarial(spec.objective):
        raise ValueError(
            f"config.objective.name={config.objective.name!r} trains no discriminator."
        )
    mesh = make_data_mesh(1)
    num_steps = int(config.train.num_steps)
    optimizer = build_optimizer(config.optimizer, num_steps)
    d_optimizer = build_discriminator_optimizer(config.optimizer, num_steps)
    rng = np.random.default_rng(0)
    shape = (int(config.data.batch_size), *spec.example_shape)
    batch = {"inputs": jax.numpy.asarray((rng.random(shape) < 0.5).astype(np.float32))}

    plain = build_objective(
        ml_collections.ConfigDict({"name": "elbo", "likelihood": config.objective.likelihood})
    )
    graphdef, _, state, _ = create_train_state_with_discriminator(
        config.model, spec.example_shape, spec.output_shape, optimizer, seed=0, mesh=mesh
    )
    one = jax.jit(make_train_step(graphdef, plain, optimizer), donate_argnums=0)
    one_rate, one_rates = _steps_per_second(one, state, batch, steps, repetitions)

    graphdef, d_graphdef, state, _ = create_train_state_with_discriminator(
        config.model,
        spec.example_shape,
        spec.output_shape,
        optimizer,
        seed=0,
        mesh=mesh,
        objective=spec.objective,
        discriminator_optimizer=d_optimizer,
    )
    two = jax.jit(
        make_adversarial_train_step(graphdef, d_graphdef, spec.objective, optimizer, d_optimizer),
        donate_argnums=0,
    )
    two_rate, two_rates = _steps_per_second(two, state, batch, steps, repetitions)
    count = lambda tree: int(sum(x.size for x in jax.tree.leaves(tree)))
    return {
        "one_optimizer": {"steps_per_sec": one_rate, "repetitions": one_rates},
        "two_optimizers": {
            "steps_per_sec": two_rate,
            "repetitions": two_rates,
            "discriminator_parameters": count(state.discriminator_params),
        },
        "model_parameters": count(state.params),
        "ratio": one_rate / two_rate,
        "goal_ratio": GOAL_RATIO,
        "meets_goal": one_rate / two_rate <= GOAL_RATIO,
    }


def main(argv):
    del argv
    config = load_config_file(_CONFIG.value)
    started = time.perf_counter()
    result = measure(config, steps=_STEPS.value, repetitions=_REPETITIONS.value)
    result.update(
        config=os.path.relpath(_CONFIG.value, REPO),
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
