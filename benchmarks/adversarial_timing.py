r"""Timing the two-optimizer train step against the one-optimizer step of the same model
(`measure`); the command line is benchmarks/adversarial_step.py. No absl flags here, so
tests and other scripts can import it."""

import os
import statistics
import sys
import time

import jax
import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from aelab.objectives.adversarial import is_adversarial  # noqa: E402
from aelab.training.experiment import build_run_spec  # noqa: E402
from aelab.training.mesh import make_data_mesh  # noqa: E402
from aelab.training.optimizers import build_discriminator_optimizer, build_optimizer  # noqa: E402
from aelab.training.state import create_train_state_with_discriminator  # noqa: E402
from aelab.training.step import make_adversarial_train_step, make_train_step  # noqa: E402

GOAL_RATIO = 2.2


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

    # The objective called without its discriminator is the model's own loss (an
    # adversarial objective's contract: FactorVAE's ELBO, VQGAN's reconstruction and
    # commitment), so the one-optimizer step trains the same generator on the same
    # loss less the adversarial terms.
    plain = spec.objective
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
