"""One benchmark measurement in a fresh process (started by run.py; prints one JSON line).

    python benchmarks/worker.py aelab mlp_vae --seconds=10 [--num_devices=8 ...]
    python benchmarks/worker.py torch mlp_vae --seconds=10 [--torch_input=precomputed]
    python benchmarks/worker.py matmul
    python benchmarks/worker.py compile

Each training measurement builds the model, runs the first call (aelab: compile time
measured separately), one warm-up call, then as many calls as fit in `--seconds`, and
reports steps per second over those calls, the peak resident memory of the process and
(aelab) the step's FLOPs from XLA's cost analysis. The PyTorch side either samples each
batch in the timed step (`--torch_input=pipeline`) or cycles through batches made before
timing (`precomputed`; `cases.TORCH_INPUTS`).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import resource
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import cases  # noqa: E402

import aelab  # noqa: E402, F401  (sets its XLA CPU flags before JAX starts a backend)

RESULT_PREFIX = "RESULT "


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed_calls(call, seconds: float, steps_per_call: int) -> tuple[int, float, float]:
    """Runs `call()` until `seconds` have passed; returns (steps, elapsed seconds, CPU
    seconds of this process). On a shared machine, wall time counts the time other
    processes hold the cores; CPU time does not (but counts threads that spin)."""
    start, start_cpu = time.perf_counter(), time.process_time()
    calls = 0
    result = None
    while calls == 0 or time.perf_counter() - start < seconds:
        result = call()
        calls += 1
        if calls % 4 == 0 or time.perf_counter() - start >= seconds:
            result = _block(result)
    _block(result)
    return calls * steps_per_call, time.perf_counter() - start, time.process_time() - start_cpu


def _block(result):
    import jax

    return jax.block_until_ready(result)


def measure_aelab(case: cases.Case, seconds: float, overrides: dict, num_devices: int | None):
    import jax
    import standin_models  # noqa: F401  (registers the stand-in models)

    from aelab.data.records import ArraySource, DatasetInfo
    from aelab.data.transforms import batch_transform_from_config
    from aelab.objectives import build_objective
    from aelab.training.batches import DeviceBatches
    from aelab.training.mesh import batch_sharding, make_data_mesh, replicated, state_sharding_fn
    from aelab.training.optimizers import build_optimizer
    from aelab.training.state import create_train_state
    from aelab.training.step import fuse_steps, make_train_step

    config = cases.aelab_config(case, **overrides)
    arrays = cases.synthetic_arrays(case)
    input_key = "image" if case.data == "images" else "series"
    info = DatasetInfo(
        name=f"synthetic_{case.data}",
        input_key=input_key,
        input_shape=arrays[input_key].shape[1:],
        value_max=255.0 if case.data == "images" else None,
        num_classes=10,
        splits={"train": len(arrays["label"])},
    )
    transform = batch_transform_from_config(config.data, info)
    source = ArraySource(arrays, name=info.name, split="train")
    example_shape = transform.example_shape(info.input_shape)
    objective = build_objective(config.objective)
    mesh = make_data_mesh(num_devices)
    optimizer = build_optimizer(config.optimizer, 100_000)
    graphdef, state, shardings = create_train_state(
        config.model,
        example_shape,
        objective.decoder_output_shape(example_shape),
        optimizer,
        seed=0,
        mesh=mesh,
        state_sharding_fn=state_sharding_fn(config.mesh),
    )
    step = make_train_step(graphdef, objective, optimizer, compute_dtype=config.train.compute_dtype)
    jitted = jax.jit(
        fuse_steps(step),
        in_shardings=(shardings, batch_sharding(mesh, 1)),
        out_shardings=(shardings, replicated(mesh)),
        donate_argnums=0,
    )
    batches = DeviceBatches(
        source, transform, mesh, global_batch_size=config.data.batch_size, seed=0
    )
    k = int(config.train.steps_per_call)
    one = batches.next_stacked(1)
    flops = jitted.lower(state, one).cost_analysis().get("flops")

    first = batches.next_stacked(k)
    start, start_cpu = time.perf_counter(), time.process_time()
    compiled = jitted.lower(state, first).compile()
    compile_s = time.perf_counter() - start
    compile_cpu_s = time.process_time() - start_cpu
    state, metrics = compiled(state, first)  # the first call, then one warm-up call
    state, metrics = compiled(state, batches.next_stacked(k))
    jax.block_until_ready(metrics)

    def call():
        nonlocal state
        state, metrics = compiled(state, batches.next_stacked(k))
        return metrics

    steps, elapsed, cpu = timed_calls(call, seconds, k)
    return {
        "steps_per_s": steps / elapsed,
        "steps_per_cpu_s": steps / cpu,
        "steps": steps,
        "compile_s": compile_s,
        "compile_cpu_s": compile_cpu_s,
        "flops_per_step": flops,
        "steps_per_call": k,
        "devices": int(mesh.size),
        "peak_rss_mb": peak_rss_mb(),
        "final_loss": float(jax.device_get(metrics["loss"])[-1]),
    }


def torch_batches(case: cases.Case, torch_input: str = "pipeline"):
    """A function that returns the PyTorch side's next batch of `case` ([128, 784] for the
    MLP, [128, 1, 28, 28] images, [128, 140, 1] series; float32). "pipeline": each call
    samples its batch (a `randperm` order per epoch, indexing, /255, `torch.bernoulli`);
    "precomputed": one epoch of batches is made that same way now, and the calls cycle
    through them, so a timed step does no input work."""
    import itertools

    import torch

    if torch_input not in cases.TORCH_INPUTS:
        raise ValueError(
            f"torch_input={torch_input!r}: expected one of {sorted(cases.TORCH_INPUTS)}"
        )
    arrays = cases.synthetic_arrays(case)
    if case.data == "images":
        data = torch.from_numpy(arrays["image"]).permute(0, 3, 1, 2).contiguous()  # NCHW
    else:
        data = torch.from_numpy(arrays["series"])
    flatten = case.model["name"].startswith("dense")
    n, batch = len(data), cases.BATCH_SIZE
    generator = torch.Generator().manual_seed(0)
    state = {"order": torch.randperm(n, generator=generator), "position": 0}

    def sample_batch() -> torch.Tensor:
        if state["position"] + batch > n:
            state["order"], state["position"] = torch.randperm(n, generator=generator), 0
        index = state["order"][state["position"] : state["position"] + batch]
        state["position"] += batch
        x = data[index]
        if case.data == "images":
            x = x.float() / 255.0
        if case.binarize == "dynamic":
            x = torch.bernoulli(x, generator=generator)
        return x.flatten(1) if flatten else x

    if torch_input == "pipeline":
        return sample_batch
    ready = [sample_batch().contiguous() for _ in range(n // batch)]
    return itertools.cycle(ready).__next__


def measure_torch(case: cases.Case, seconds: float, torch_input: str = "pipeline"):
    """PyTorch eager steps of `case`, fed by `torch_batches(case, torch_input)`; with
    "precomputed" only the model's forward, backward and Adam update are timed."""
    import torch
    import torch_models

    # PyTorch's default is one thread per core of the machine; use the cores this process
    # may run on (run.py --cpus pins both sides to the same ones).
    torch.set_num_threads(len(os.sched_getaffinity(0)))
    torch.manual_seed(0)
    name, kwargs = case.torch_model
    model = getattr(torch_models, name)(**kwargs)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    start = time.perf_counter()
    next_batch = torch_batches(case, torch_input)
    batches_s = time.perf_counter() - start

    def call():
        optimizer.zero_grad(set_to_none=True)
        loss = model.loss(next_batch())
        loss.backward()
        optimizer.step()
        return loss

    start = time.perf_counter()
    call()
    first_step_s = time.perf_counter() - start
    call()
    steps, elapsed, cpu = timed_calls(call, seconds, 1)
    return {
        "steps_per_s": steps / elapsed,
        "steps_per_cpu_s": steps / cpu,
        "steps": steps,
        "torch_input": torch_input,
        "batches_setup_s": batches_s,
        "first_step_s": first_step_s,
        "threads": torch.get_num_threads(),
        "peak_rss_mb": peak_rss_mb(),
        "final_loss": float(call().detach()),
    }


def measure_matmul(size: int = 2048, repeats: int = 5) -> dict:
    """The best float32 GFLOP/s (and GFLOP per CPU second) of an XLA [size, size] @
    [size, size] matmul."""
    import jax
    import jax.numpy as jnp

    a = jnp.asarray(jax.random.normal(jax.random.PRNGKey(0), (size, size)))
    matmul = jax.jit(lambda a: a @ a)
    matmul(a).block_until_ready()
    best, best_cpu = float("inf"), float("inf")
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        for _ in range(4):
            out = matmul(a)
        out.block_until_ready()
        best = min(best, (time.perf_counter() - start) / 4)
        best_cpu = min(best_cpu, (time.process_time() - start_cpu) / 4)
    flops = 2 * size**3
    return {
        "gflops": flops / best / 1e9,
        "gflops_per_cpu_s": flops / best_cpu / 1e9,
        "size": size,
        "peak_rss_mb": peak_rss_mb(),
    }


def config_module(path: pathlib.Path):
    """The module of a config file, loaded from its path as --config does."""
    import importlib.util

    spec_module = importlib.util.spec_from_file_location(f"config_{path.stem}", path)
    module = importlib.util.module_from_spec(spec_module)
    spec_module.loader.exec_module(module)
    return module


def experiment_configs() -> dict:
    """Every config under configs/ (sweep files aside), keyed `configs/<file>.py`, or
    `configs/<file>.py:<variant>` for each variant of a file with `VARIANTS`."""
    configs = {}
    for path in sorted((REPO / "configs").rglob("*.py")):
        if path.name.startswith("_") or "sweeps" in path.parts:
            continue
        module = config_module(path)
        name = str(path.relative_to(REPO))
        for variant in getattr(module, "VARIANTS", None) or [None]:
            config = module.get_config(variant) if variant else module.get_config()
            configs[f"{name}:{variant}" if variant else name] = config
    return configs


def build_train_call(config, spec, mesh):
    """(jitted call, train state, batch) of `config`'s first train call, from the
    library's pieces the training loop uses: the state in its shardings,
    `config.train.steps_per_call` fused steps, the state donated. The batch is abstract: {"inputs":
    ShapeDtypeStruct [K, batch, *example_shape] float32}; `spec` is the config's
    `build_run_spec`, `mesh` its data mesh."""
    import jax

    from aelab.training.mesh import batch_sharding, replicated, state_sharding_fn
    from aelab.training.optimizers import build_optimizer
    from aelab.training.state import create_train_state
    from aelab.training.step import fuse_steps, make_train_step

    optimizer = build_optimizer(config.optimizer, config.train.num_steps)
    graphdef, state, shardings = create_train_state(
        config.model,
        spec.example_shape,
        spec.output_shape,
        optimizer,
        seed=0,
        mesh=mesh,
        state_sharding_fn=state_sharding_fn(config.get("mesh")),
    )
    k = int(config.train.steps_per_call)
    batch = {
        "inputs": jax.ShapeDtypeStruct(
            (k, config.data.batch_size, *spec.example_shape), jax.numpy.float32
        )
    }
    step = make_train_step(
        graphdef, spec.objective, optimizer, compute_dtype=config.train.get("compute_dtype")
    )
    jitted = jax.jit(
        fuse_steps(step),
        in_shardings=(shardings, batch_sharding(mesh, 1)),
        out_shardings=(shardings, replicated(mesh)),
        donate_argnums=0,
    )
    return jitted, state, batch


def measure_compile() -> dict:
    """Seconds to build the state and trace and compile the first train call of every
    config under configs/ (`experiment_configs`; shapes only: no data is read); wall and
    CPU time (compiling is mostly one thread, so on a busy machine the CPU time is the
    steadier figure)."""
    from aelab.training.experiment import build_run_spec
    from aelab.training.mesh import make_data_mesh

    results = {}
    for name, config in experiment_configs().items():
        spec = build_run_spec(config)
        mesh = make_data_mesh(config.mesh.get("num_devices"))
        start, start_cpu = time.perf_counter(), time.process_time()
        jitted, state, batch = build_train_call(config, spec, mesh)
        jitted.lower(state, batch).compile()
        results[name] = {
            "compile_s": time.perf_counter() - start,
            "compile_cpu_s": time.process_time() - start_cpu,
            "steps_per_call": int(config.train.steps_per_call),
        }
    return {"configs": results, "peak_rss_mb": peak_rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("impl", choices=["aelab", "torch", "matmul", "compile"])
    parser.add_argument("case", nargs="?", choices=sorted(cases.CASES))
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--num_devices", type=int, default=None)
    parser.add_argument(
        "--torch_input",
        choices=list(cases.TORCH_INPUTS),
        default="pipeline",
        help="how the PyTorch side gets its batches",
    )
    parser.add_argument(
        "--set", action="append", default=[], help="aelab config override section.field=value"
    )
    args = parser.parse_args()
    if args.impl == "aelab":
        overrides = {}
        for item in args.set:
            key, value = item.split("=", 1)
            try:
                overrides[key] = json.loads(value)
            except json.JSONDecodeError:
                overrides[key] = value  # a bare string
        result = measure_aelab(cases.CASES[args.case], args.seconds, overrides, args.num_devices)
    elif args.impl == "torch":
        result = measure_torch(cases.CASES[args.case], args.seconds, args.torch_input)
    elif args.impl == "matmul":
        result = measure_matmul()
    else:
        result = measure_compile()
    result["xla_flags"] = os.environ.get("XLA_FLAGS", "")
    print(RESULT_PREFIX + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
