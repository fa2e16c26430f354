"""The five measurements of accelerator_check.py, each a function of its `Settings`.

Every part builds what it times through the library and the other benchmarks' helpers:
the train call of a config from the loop's pieces (`worker.build_train_call`), timing by
`worker.timed_calls`, populations by `population_sweep.run_population`, the IWAE
paper's model and test inputs by `importance_sampled_nll`. Each returns a JSON-ready
dict; a case that fails is recorded with its error (one line) and the rest go on.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import re
import subprocess
import sys
import time

import importance_sampled_nll
import jax
import numpy as np
import population_sweep
import worker

from aelab.config import load_config_file
from aelab.evaluation.likelihood import importance_sampled_log_likelihood
from aelab.objectives import build_likelihood
from aelab.training.experiment import build_run_spec
from aelab.training.mesh import batch_sharding, make_data_mesh

REPO = pathlib.Path(__file__).resolve().parents[1]

# The largest config of each family under configs/ (by parameter count; for conv, the
# conv VAE the MFU goal names rather than the larger conv AEs).
FAMILIES = {
    "mlp": "configs/hinton2006_mnist.py",  # dense AE 784-1000-500-250-30, 2.8M params
    "conv": "configs/images.py:fashion_mnist_conv_vae",  # (32, 64) channels, 351k
    "residual": "configs/images.py:mnist_resnet_ae,full",  # batch norm and dropout, 1.0M
    "vit": "configs/images.py:mnist_vit_ae",  # 4x4 patches, 2+2 blocks, 159k
    "lstm": "configs/ecg5000_recurrent.py:lstm_ae",  # 140 steps, 64 hidden, 41k
}
POPULATION_CONV = "configs/images.py:fashion_mnist_conv_vae"
IWAE_CONFIG = REPO / "configs" / "iwae_table1" / "mlp_1layer.py"
# The six rows of the IWAE paper's Table 1 (one stochastic layer).
TABLE1_ROWS = tuple((objective, k) for objective in ("vae", "iwae") for k in (1, 5, 50))

# Dense peak FLOP/s by compute dtype, keyed by a substring of `device_kind` (the first
# match wins; NVIDIA datasheets, SXM parts unless named). float32 is the plain FP32 rate:
# TF32 tensor-core rates are not used as the yardstick (XLA's default precision may run
# float32 matmuls as TF32, so a float32 MFU can exceed 100%).
PEAK_FLOPS = {
    "H100 PCIe": {"bfloat16": 756e12, "float32": 51e12},
    "H200": {"bfloat16": 989e12, "float32": 67e12},
    "H100": {"bfloat16": 989e12, "float32": 67e12},
    "A100": {"bfloat16": 312e12, "float32": 19.5e12},
}


@dataclasses.dataclass(frozen=True)
class Settings:
    """How big each part is: `GPU` (the real check) or `SMOKE` (tiny, on the CPU).

    Attributes:
      tests: pytest arguments of part 1 (files or node ids under tests/).
      num_devices: devices of part 2's and part 5's meshes (None: each config's own).
      cases: part 2's (FAMILIES key, compute dtype) pairs.
      batch_size: part 2's batch size (None: each config's own).
      steps_per_call: part 2's (fewest, most) fused steps per call: a config's own
        `train.steps_per_call` brought into this range.
      seconds_per_case: timed seconds of each part-2 case.
      populations: part 3's models ("mlp_vae", "conv_vae").
      members, population_steps, population_repeats, population_batch: part 3 (batch
        None: the configs' own).
      nll_examples, nll_samples: part 4's test images and k.
      iwae_rows: part 5's Table 1 rows (objective, k).
      iwae_steps_per_call, iwae_seconds: part 5's fused steps (None: the config's 100)
        and timed seconds per row.
    """

    tests: tuple[str, ...]
    num_devices: int | None
    cases: tuple[tuple[str, str], ...]
    batch_size: int | None
    steps_per_call: tuple[int, int]
    seconds_per_case: float
    populations: tuple[str, ...]
    members: int
    population_steps: int
    population_repeats: int
    population_batch: int | None
    nll_examples: int
    nll_samples: int
    iwae_rows: tuple[tuple[str, int], ...]
    iwae_steps_per_call: int | None
    iwae_seconds: float


GPU = Settings(
    tests=(
        # The most device-specific first: a run that reaches the cap still counts them.
        "tests/training/test_sharding.py",
        "tests/training/test_param_sharding_and_precision.py",
        "tests/sweeps/test_population.py",
        "tests/training/test_checkpoint_contents.py",
        "tests/training/test_resume.py",
        "tests/training/test_checkpoint_integrity.py",
        "tests/training/test_device_batches.py",
    ),
    num_devices=None,
    cases=tuple((family, dtype) for family in FAMILIES for dtype in ("float32", "bfloat16")),
    batch_size=None,
    steps_per_call=(10, 100),
    seconds_per_case=3.0,
    populations=("mlp_vae", "conv_vae"),
    members=16,
    population_steps=50,
    population_repeats=3,
    population_batch=None,
    nll_examples=10_000,
    nll_samples=5_000,
    iwae_rows=TABLE1_ROWS,
    iwae_steps_per_call=None,
    iwae_seconds=8.0,
)
SMOKE = Settings(
    tests=(
        "tests/training/test_checkpoint_integrity.py::test_fingerprint_sees_a_one_bit_change_in_any_leaf",
    ),
    num_devices=1,
    cases=(("mlp", "float32"), ("conv", "bfloat16")),
    batch_size=4,
    steps_per_call=(1, 1),
    seconds_per_case=0.2,
    populations=("mlp_vae", "conv_vae"),
    members=2,
    population_steps=1,
    population_repeats=1,
    population_batch=4,
    nll_examples=20,
    nll_samples=10,
    iwae_rows=(("vae", 1), ("iwae", 5)),
    iwae_steps_per_call=2,
    iwae_seconds=0.2,
)


def first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"[:300]


def peak_flops(device_kind: str) -> dict | None:
    """{"bfloat16": FLOP/s, "float32": FLOP/s} of the first PEAK_FLOPS key in the kind."""
    return next((peak for key, peak in PEAK_FLOPS.items() if key in device_kind), None)


def cost_flops(stage) -> float | None:
    """The "flops" of XLA's cost analysis of a lowered or compiled program (a dict, or on
    some versions a list of one dict per program); None when XLA gives none."""
    analysis = stage.cost_analysis()
    if isinstance(analysis, list | tuple):
        analysis = analysis[0] if analysis else None
    flops = (analysis or {}).get("flops")
    return float(flops) if flops else None


def _config(name: str):
    """The config `configs/<file>.py[:<arg>]` names, as `--config` reads it (an arg
    such as "mnist_resnet_ae,full" picks a variant and its accelerator budget)."""
    path, _, arg = name.partition(":")
    return load_config_file(str(REPO / path), arg or None)


# A test's line in `pytest -v` output: "tests/x.py::test_y[z] PASSED   [ 50%]".
TEST_LINE = re.compile(r"^(tests/\S.*?::.*?) (PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)\b")


def run_tests(settings: Settings, platform: str, seconds: float) -> dict:
    """Part 1: pytest on `settings.tests` in a child process on `platform`; the tests
    finished by the time limit are counted even when it stops pytest."""
    env = dict(os.environ, JAX_PLATFORMS=platform, XLA_PYTHON_CLIENT_PREALLOCATE="false")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", *settings.tests]
    start = time.perf_counter()
    try:
        completed = subprocess.run(
            command, cwd=REPO, env=env, capture_output=True, text=True, timeout=seconds
        )
        output, returncode = completed.stdout, completed.returncode
    except subprocess.TimeoutExpired as expired:  # its output is bytes, whatever `text`
        output, returncode = (expired.stdout or b"").decode(errors="replace"), None
    outcomes = {}
    for line in output.splitlines():
        match = TEST_LINE.match(line)
        if match:  # a test that fails and then errors in teardown keeps "ERROR"
            outcomes[match.group(1)] = match.group(2)
    if not outcomes and returncode is not None:
        raise RuntimeError(f"pytest ran no test (exit {returncode}): {output.strip()[-300:]}")
    failed = [name for name, outcome in outcomes.items() if outcome in ("FAILED", "ERROR")]
    return {
        "platform": platform,
        "files": list(settings.tests),
        "passed": sum(outcome in ("PASSED", "XFAIL", "XPASS") for outcome in outcomes.values()),
        "failed": len(failed),
        "skipped": sum(outcome == "SKIPPED" for outcome in outcomes.values()),
        "seconds": time.perf_counter() - start,
        "timed_out": returncode is None,
        "returncode": returncode,
        "failed_tests": failed[:20],
    }


def _measure_train_call(config, settings: Settings, seconds: float, peak) -> dict:
    """Compile time, steps/s, examples/s and MFU of `config`'s fused train call."""
    spec = build_run_spec(config)
    mesh = make_data_mesh(settings.num_devices or config.mesh.get("num_devices"))
    jitted, state, batch = worker.build_train_call(config, spec, mesh)
    shape = batch["inputs"].shape
    one_step = {"inputs": jax.ShapeDtypeStruct((1, *shape[1:]), np.float32)}
    # One step is a plain call (no scan: XLA's cost analysis does not multiply a loop
    # body by its trip count). The compiled program's analysis if the lowered one has none.
    lowered = jitted.lower(state, one_step)
    flops = cost_flops(lowered) or cost_flops(lowered.compile())
    start = time.perf_counter()
    compiled = jitted.lower(state, batch).compile()
    compile_s = time.perf_counter() - start
    inputs = np.random.default_rng(0).random(shape, np.float32)
    batches = {"inputs": jax.device_put(inputs, batch_sharding(mesh, 1))}
    state, metrics = compiled(state, batches)  # the first call, then one warm-up call
    state, metrics = compiled(state, batches)
    jax.block_until_ready(metrics)

    def call():
        nonlocal state
        state, metrics = compiled(state, batches)
        return metrics

    steps, elapsed, _ = worker.timed_calls(call, seconds, shape[0])
    steps_per_s = steps / elapsed
    dtype = config.train.get("compute_dtype") or "float32"
    mfu = flops * steps_per_s / peak[dtype] if flops and peak else None
    return {
        "compile_s": compile_s,
        "steps_per_s": steps_per_s,
        "examples_per_s": steps_per_s * shape[1],
        "flops_per_step": flops,
        "mfu": mfu,
        "steps_per_call": shape[0],
        "batch_size": shape[1],
        "steps": steps,
    }


SKIPPED = "skipped: the part's time cap was reached"


def run_throughput(settings: Settings, deadline: float, peak: dict | None) -> dict:
    """Part 2: each family's largest config in each compute dtype (`settings.cases`)."""
    cases = {}
    for family, dtype in settings.cases:
        name, key = FAMILIES[family], f"{family}_{dtype}"
        if time.monotonic() > deadline:
            cases[key] = {"config": name, "error": SKIPPED}
            continue
        config = _config(name)
        config.train.compute_dtype = dtype
        fewest, most = settings.steps_per_call
        config.train.steps_per_call = min(most, max(fewest, int(config.train.steps_per_call)))
        if settings.batch_size:
            config.data.batch_size = settings.batch_size
        try:
            result = _measure_train_call(config, settings, settings.seconds_per_case, peak)
            cases[key] = {"config": name, "compute_dtype": dtype, **result}
        except Exception as error:  # recorded; the other cases go on
            cases[key] = {"config": name, "compute_dtype": dtype, "error": first_line(error)}
    return {"cases": cases}


def _population(model: str, settings: Settings) -> dict:
    """population_sweep's measurement of `model`: its 784-200-200-50 MLP VAE at batch 20
    (the IWAE protocol's), or the conv VAE of POPULATION_CONV."""
    size, k, repeats = settings.members, settings.population_steps, settings.population_repeats
    if model == "mlp_vae":
        name, shape, hidden, latent, batch = population_sweep.CASES[1]
        batch = settings.population_batch or batch
        return population_sweep.run_case(name, shape, hidden, latent, batch, size, k, repeats)
    config = _config(POPULATION_CONV)
    config.data.batch_size = settings.population_batch or config.data.batch_size
    shape = tuple(build_run_spec(config).example_shape)
    return population_sweep.run_population(POPULATION_CONV, config, shape, size, k, repeats)


def run_populations(settings: Settings, deadline: float) -> dict:
    """Part 3: `settings.members` MLP and conv VAEs, vmapped against one after another."""
    cases = {}
    for model in settings.populations:
        if time.monotonic() > deadline:
            cases[model] = {"error": SKIPPED}
            continue
        try:
            cases[model] = _population(model, settings)
        except Exception as error:  # recorded; the other model goes on
            cases[model] = {"error": first_line(error)}
    return {"cases": cases}


def run_likelihood(settings: Settings, deadline: float) -> dict:
    """Part 4: the importance-sampled NLL of the IWAE paper's MLP VAE (fresh weights)."""
    graphdef, params, model_state = importance_sampled_nll._iwae_mlp_vae()
    inputs = importance_sampled_nll._test_inputs(settings.nll_examples)
    likelihood = build_likelihood("bernoulli")

    def estimate(seed: int) -> float:
        result = importance_sampled_log_likelihood(
            graphdef,
            params,
            model_state,
            likelihood,
            inputs,
            num_samples=settings.nll_samples,
            key=jax.random.PRNGKey(seed),
        )
        return float(-np.mean(result.log_likelihood))

    start = time.perf_counter()
    nll = estimate(0)
    seconds = time.perf_counter() - start
    warm = None
    if time.monotonic() + 2 * seconds < deadline:
        start = time.perf_counter()
        estimate(1)
        warm = time.perf_counter() - start
    return {
        "num_examples": len(inputs),
        "num_samples": settings.nll_samples,
        "data": "mnist test" if os.environ.get("AELAB_DATA_DIR") else "random binary images",
        "seconds": seconds,
        "seconds_compiled": warm,
        "nll": nll,
    }


def run_iwae_protocol(settings: Settings, deadline: float) -> dict:
    """Part 5: steps/s of each Table 1 row under the paper's protocol (budget=full),
    and the projected time of its 3,280 epochs."""
    module = worker.config_module(IWAE_CONFIG)
    rows = {}
    for objective, k in settings.iwae_rows:
        key = f"{objective}_k{k}"
        if time.monotonic() > deadline:
            rows[key] = {"error": SKIPPED}
            continue
        config = module.get_config(f"objective={objective},k={k},budget=full")
        if settings.iwae_steps_per_call:
            config.train.steps_per_call = settings.iwae_steps_per_call
        try:
            result = _measure_train_call(config, settings, settings.iwae_seconds, None)
        except Exception as error:
            rows[key] = {"error": first_line(error)}
            continue
        num_steps = int(config.train.num_steps)
        rows[key] = {
            "steps_per_s": result["steps_per_s"],
            "compile_s": result["compile_s"],
            "num_steps": num_steps,
            "epochs": num_steps * config.data.batch_size / module.TRAIN_EXAMPLES,
            "projected_hours": num_steps / result["steps_per_s"] / 3600,
        }
    return {"config": "configs/iwae_table1/mlp_1layer.py:budget=full", "rows": rows}


TABLE1_ASSUMPTION = (
    "Rows train side by side P at a time, longest first; a group of p rows advances at "
    "each row's own measured rate (part 5) times g(p)/p, where g is the population "
    "speed-up over one-after-another runs measured in part 3 for the MLP VAE (the same "
    "784-200-200-50 model at batch 20): g(1) = 1, linear up to the measured g at its "
    "population size, flat beyond. Rows of different k or objective are separate "
    "programs in aelab (a population shares one), so this presumes they reach the same "
    "speed-up side by side."
)


def table1_fit(rows: dict, population: dict | None, max_hours: float = 1.0) -> dict:
    """The smallest population size P at which part 5's `rows` (the six of Table 1; two
    in --smoke) train in `max_hours`, under TABLE1_ASSUMPTION, with the speed-up of
    part 3's MLP `population`."""
    failed = [key for key, row in rows.items() if "error" in row]
    if failed or not rows or not population or "error" in population:
        why = f"rows {failed} failed" if failed else "the MLP population failed or did not run"
        return {"population_size": None, "error": f"needs every row and the MLP population: {why}"}
    hours = sorted((row["projected_hours"] for row in rows.values()), reverse=True)
    size, gain = population["members"], population["vmap_speedup"]

    def speedup(p: int) -> float:
        return 1 + (gain - 1) * (min(p, size) - 1) / max(size - 1, 1)

    def total(p: int) -> float:
        groups = [hours[i : i + p] for i in range(0, len(hours), p)]
        return sum(group[0] * len(group) / speedup(len(group)) for group in groups)

    by_size = {p: total(p) for p in range(1, len(hours) + 1)}
    fits = [p for p, t in by_size.items() if t <= max_hours]
    return {
        "population_size": fits[0] if fits else None,
        "max_hours": max_hours,
        "hours_by_population_size": by_size,
        "measured_speedup": gain,
        "measured_members": size,
        "rows": list(rows),
        "assumption": TABLE1_ASSUMPTION,
    }
