r"""Throughput of a vmapped population vs P sequential runs of the same models.

  PYTHONPATH=. python benchmarks/population_sweep.py [--members=16] [--repeats=5] \
      [--out=benchmarks/results/population_sweep.json]

For each case (model, batch size) it builds P members that differ in seed, learning rate
and beta, and times K fused steps (one `lax.scan`) on the same synthetic batches:
- sequential: each member's own jitted K-step call, one member after the other (what P
  separate runs compute, without their start-up);
- vmap: all P members in one jitted call (`strategy="vmap"`);
- fallback: the population's "sequential" strategy (each member's jitted call in turn on
  slices of the stacked states), which `strategy="auto"` picks when vmap is slower.
Compilation is excluded. The three are timed in turn in every repeat and the speedups
are medians of the per-repeat ratios, so a machine shared with other jobs biases them
less. Throughput is member-steps per second.
"""

import json
import os
import platform
import statistics
import subprocess
import time

import jax
import numpy as np
from absl import app, flags

from aelab.config import base_config
from aelab.objectives import build_objective
from aelab.sweeps.population import (
    PopulationTrainer,
    init_population,
    make_member_fns,
    member_tree,
    population_hparams,
)
from aelab.training.mesh import make_data_mesh

_MEMBERS = flags.DEFINE_integer("members", 16, "Population size P.")
_REPEATS = flags.DEFINE_integer("repeats", 5, "Timed repeats of each variant.")
_STEPS = flags.DEFINE_integer("steps_per_call", 50, "Steps fused into one call.")
_OUT = flags.DEFINE_string(
    "out", "benchmarks/results/population_sweep.json", "Where the JSON results go."
)

# (name, example shape, hidden dims, latent dim, batch size)
CASES = [
    ("digits_mlp_vae_64-128-64-8_b64", (64,), (128, 64), 8, 64),
    ("mnist_mlp_vae_784-200-200-50_b20", (784,), (200, 200), 50, 20),
    ("mnist_mlp_vae_784-200-200-50_b128", (784,), (200, 200), 50, 128),
]


def _config(hidden_dims, latent_dim, batch_size):
    config = base_config()
    config.model.name = "dense_vae"
    config.model.hidden_dims = hidden_dims
    config.model.latent_dim = latent_dim
    config.data.batch_size = batch_size
    config.train.num_steps = 100_000
    return config


def _time(fn, *args) -> float:
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    return time.perf_counter() - start


def run_case(name, example_shape, hidden_dims, latent_dim, batch_size, size, k, repeats):
    """`run_population` of one of CASES' MLP VAEs."""
    config = _config(hidden_dims, latent_dim, batch_size)
    return run_population(name, config, example_shape, size, k, repeats)


def run_population(name, config, example_shape, size, k, repeats):
    """Times `size` members of `config` (any model; its batch size, examples of
    `example_shape`) trained as P sequential runs, as one vmapped population and by the
    population's sequential fallback: `k` fused steps per call, `repeats` rounds."""
    batch_size = config.data.batch_size
    rng = np.random.default_rng(0)
    members = [
        {
            "seed": i,
            "optimizer.learning_rate": float(10 ** rng.uniform(-3.5, -2.5)),
            "objective.beta": float(rng.uniform(0.5, 2.0)),
        }
        for i in range(size)
    ]
    output_shape = build_objective(config.objective).decoder_output_shape(example_shape)
    mesh = make_data_mesh(1)
    graphdef, states = init_population(
        config, members, example_shape, output_shape, mesh, config.train.num_steps
    )
    hparams = population_hparams(config, members)
    batches = {
        "inputs": (rng.random((k, batch_size, *example_shape)) < 0.5).astype(np.float32),
        "label": np.zeros((k, batch_size), np.int32),
    }
    member_train, _ = make_member_fns(graphdef, config, config.train.num_steps)

    vmap_trainer = PopulationTrainer(member_train, "vmap", size)
    fallback_trainer = PopulationTrainer(member_train, "sequential", size)
    vmap_states = vmap_trainer.hold(states)
    fallback_states = fallback_trainer.hold(states)
    member_states = [member_tree(states, i) for i in range(size)]
    member_hparams = [member_tree(hparams, i) for i in range(size)]
    # One compiled K-step program, called once per member: P separate runs execute the
    # same computation (their rates are inputs here rather than constants).
    sequential_step = jax.jit(
        lambda s, h, b: jax.lax.scan(lambda st, batch: member_train(st, h, batch), s, b)
    )

    def sequential(states_list, hparams_list, batches):
        return [
            sequential_step(s, h, batches) for s, h in zip(states_list, hparams_list, strict=True)
        ]

    # Compile everything before timing.
    jax.block_until_ready(sequential(member_states, member_hparams, batches))
    jax.block_until_ready(vmap_trainer(vmap_states, hparams, batches))
    jax.block_until_ready(fallback_trainer(fallback_states, hparams, batches))

    times = {"sequential": [], "vmap": [], "fallback": []}
    for _ in range(repeats):
        times["sequential"].append(_time(sequential, member_states, member_hparams, batches))
        times["vmap"].append(_time(vmap_trainer, vmap_states, hparams, batches))
        times["fallback"].append(_time(fallback_trainer, fallback_states, hparams, batches))
    member_steps = size * k
    result = {
        "case": name,
        "members": size,
        "batch_size": batch_size,
        "steps_per_call": k,
        **{
            f"{variant}_member_steps_per_s": member_steps / statistics.median(ts)
            for variant, ts in times.items()
        },
        "vmap_speedup": statistics.median(
            s / v for s, v in zip(times["sequential"], times["vmap"], strict=True)
        ),
        "fallback_speedup": statistics.median(
            s / v for s, v in zip(times["sequential"], times["fallback"], strict=True)
        ),
        "seconds": {variant: ts for variant, ts in times.items()},
    }
    result["auto_choice"] = (
        "vmap" if result["vmap_speedup"] >= result["fallback_speedup"] else "sequential"
    )
    result["auto_speedup"] = max(result["vmap_speedup"], result["fallback_speedup"])
    return result


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv):
    del argv
    started = time.time()
    results = []
    for case in CASES:
        result = run_case(*case, _MEMBERS.value, _STEPS.value, _REPEATS.value)
        print(
            f"{result['case']}: sequential {result['sequential_member_steps_per_s']:.0f}, "
            f"vmap {result['vmap_member_steps_per_s']:.0f} ({result['vmap_speedup']:.2f}x), "
            f"fallback {result['fallback_member_steps_per_s']:.0f} "
            f"({result['fallback_speedup']:.2f}x) member-steps/s; auto: "
            f"{result['auto_choice']}",
            flush=True,
        )
        results.append(result)
    report = {
        "benchmark": "population_sweep",
        "command": "PYTHONPATH=. python benchmarks/population_sweep.py "
        f"--members={_MEMBERS.value} --repeats={_REPEATS.value} "
        f"--steps_per_call={_STEPS.value}",
        "commit": _commit(),
        "backend": jax.default_backend(),
        "devices": [d.device_kind for d in jax.devices()],
        "cpu_count": os.cpu_count(),
        "machine": platform.platform(),
        "jax_version": jax.__version__,
        "wall_seconds": time.time() - started,
        "cases": results,
    }
    os.makedirs(os.path.dirname(os.path.abspath(_OUT.value)), exist_ok=True)
    with open(_OUT.value, "w") as f:
        json.dump(report, f, indent=2)
    print(f"Wrote {_OUT.value}")


if __name__ == "__main__":
    app.run(main)
