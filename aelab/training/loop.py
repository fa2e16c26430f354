"""`train_and_evaluate`: the training loop.

config -> data pipeline -> sharded train state -> jitted (fused) steps -> periodic
logging, evaluation, image grids and checkpoints -> work directory. A rerun in the same
work directory resumes from its latest checkpoint: parameters, optimizer state, rng,
step, data-iterator position and the loop's own bookkeeping, so an interrupted run ends
bit-identical to an uninterrupted one.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Sequence
from typing import Protocol

import jax
import numpy as np
from absl import logging

from aelab.data import load_split
from aelab.data.pipeline import ProcessSlice, eval_batches, to_global_arrays
from aelab.training.batches import make_train_batches
from aelab.training.checkpointing import Checkpointer, abstract_with_shardings
from aelab.training.distributed import initialize_distributed
from aelab.training.early_stopping import EarlyStopping
from aelab.training.experiment import RunSpec, build_run_spec
from aelab.training.log_filter import quiet_library_info_logs
from aelab.training.mesh import batch_sharding, make_data_mesh, replicated, state_sharding_fn
from aelab.training.metric_writer import MetricWriter
from aelab.training.optimizers import build_optimizer
from aelab.training.progress import Progress
from aelab.training.schedules import build_schedule
from aelab.training.seeds import data_seed
from aelab.training.snapshots import ImageSnapshots
from aelab.training.state import create_train_state, parameter_count
from aelab.training.step import fuse_steps, make_eval_step, make_train_step


class NonFiniteLossError(FloatingPointError):
    """Training produced a NaN or infinite metric; the last good checkpoint is kept."""


class MetricWindow:
    """Sums per-step train metrics between two log lines (float64, on the host).

    Its state goes into checkpoints, so a run resumed mid-window logs the same means.
    """

    def __init__(self, state: dict | None = None):
        state = state or {"sums": {}, "count": 0}
        self.sums: dict[str, float] = dict(state["sums"])
        self.count: int = int(state["count"])

    def add(self, per_step: dict[str, np.ndarray]) -> None:
        for name, values in per_step.items():
            self.sums[name] = self.sums.get(name, 0.0) + float(np.sum(values, dtype=np.float64))
        self.count += len(next(iter(per_step.values())))

    def means(self) -> dict[str, float]:
        return {name: total / self.count for name, total in self.sums.items()}

    def reset(self) -> None:
        self.sums, self.count = {}, 0

    def state_dict(self) -> dict:
        return {"sums": dict(self.sums), "count": self.count}


def _check_finite(per_step: dict[str, np.ndarray], first_step: int, checkpoint_step) -> None:
    """Raises NonFiniteLossError naming the first step and metric that is not finite."""
    num_steps = len(next(iter(per_step.values())))
    for offset in range(num_steps):
        bad = [name for name, v in per_step.items() if not math.isfinite(float(v[offset]))]
        if bad:
            step = first_step + offset + 1
            kept = (
                f"the last good checkpoint (step {checkpoint_step}) is kept"
                if checkpoint_step is not None
                else "no checkpoint had been written yet"
            )
            values = ", ".join(f"{name}={float(per_step[name][offset])}" for name in bad)
            raise NonFiniteLossError(
                f"Training diverged at step {step}: {values}; {kept}. Lower "
                "config.optimizer.learning_rate, set config.optimizer.grad_clip_norm, or check "
                "the data for NaNs, then rerun (the run resumes from the last checkpoint)."
            )


def _write_config(config, workdir: str) -> None:
    path = os.path.join(workdir, "config.json")
    text = config.to_json_best_effort(indent=2, sort_keys=True)
    if os.path.exists(path):
        with open(path) as f:
            previous = f.read()
        if previous != text:
            old, new = json.loads(previous), json.loads(text)
            changed = _diff_keys(old, new)
            logging.warning(
                "The config differs from the one saved in %s; changed fields: %s. "
                "Resuming with the new config.",
                path,
                ", ".join(changed),
            )
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def _diff_keys(old, new, prefix: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        keys = sorted(set(old) | set(new))
        return [d for k in keys for d in _diff_keys(old.get(k), new.get(k), f"{prefix}{k}.")]
    return [] if old == new else [prefix.rstrip(".")]


def _train_config(config):
    train = config.train
    num_steps = int(train.num_steps)
    return dict(
        num_steps=num_steps,
        log_every=int(train.get("log_every", 100)),
        eval_every=int(train.get("eval_every", 1000)),
        checkpoint_every=int(train.get("checkpoint_every", 1000)),
        steps_per_call=int(train.get("steps_per_call", 1)),
    )


def evaluate(
    eval_step, state, source, spec: RunSpec, mesh, config, *, global_batch_size: int
) -> dict[str, float]:
    """Averages the objective's metrics over the evaluation split (exactly: padding is
    masked). Returns {"eval/<name>": value}."""
    sharding = batch_sharding(mesh)
    eval_key = jax.random.PRNGKey(config.seed + 1)
    sums: dict[str, float] = {}
    total = 0.0
    batches = eval_batches(
        source,
        spec.transform,
        ProcessSlice.current(global_batch_size),
        seed=data_seed(config),
        labels=config.data.get("eval_labels"),
        max_examples=config.train.get("eval_examples"),
    )
    for index, batch in enumerate(batches):
        metric_sums, count = eval_step(
            state, to_global_arrays(batch, sharding), jax.random.fold_in(eval_key, index)
        )
        metric_sums, count = jax.device_get((metric_sums, count))
        for name, value in metric_sums.items():
            sums[name] = sums.get(name, 0.0) + float(value)
        total += float(count)
    return {f"eval/{name}": value / total for name, value in sums.items()}


class TrainCallback(Protocol):
    """Called by the loop; sweeps use it to report and prune trials."""

    def on_evaluation(self, step: int, metrics: dict[str, float]) -> None:
        """After each evaluation (and the checkpoint of that step, if any). May raise to
        stop the run; the checkpoint of `step` is already saved then."""


def train_and_evaluate(
    config, workdir: str, *, callbacks: Sequence[TrainCallback] = ()
) -> dict[str, float]:
    """Trains the model described by `config`, writing everything into `workdir`.

    Resumes from the latest checkpoint in `workdir/checkpoints` if there is one.

    Returns:
      The last evaluation metrics ({"eval/<name>": value}).
    """
    quiet_library_info_logs()
    initialize_distributed(config.get("distributed"))
    workdir = os.path.abspath(workdir)
    is_chief = jax.process_index() == 0
    if is_chief:
        os.makedirs(workdir, exist_ok=True)
        _write_config(config, workdir)

    spec = build_run_spec(config)
    loop = _train_config(config)
    num_steps = loop["num_steps"]
    train_source, _ = load_split(config.data, config.data.get("train_split", "train"))
    eval_source, _ = load_split(config.data, config.data.get("eval_split", "test"))

    mesh = make_data_mesh(config.get("mesh", {}).get("num_devices"))
    global_batch = int(config.data.batch_size)
    if global_batch % mesh.size:
        raise ValueError(
            f"config.data.batch_size={global_batch} does not divide among {mesh.size} "
            f"devices; use a multiple of {mesh.size}."
        )
    eval_batch = int(config.data.get("eval_batch_size") or global_batch)
    if eval_batch % mesh.size:
        raise ValueError(
            f"config.data.eval_batch_size={eval_batch} does not divide among {mesh.size} "
            f"devices; use a multiple of {mesh.size}."
        )

    optimizer = build_optimizer(config.optimizer, num_steps)
    graphdef, state, shardings = create_train_state(
        config.model,
        spec.example_shape,
        spec.output_shape,
        optimizer,
        seed=config.seed,
        mesh=mesh,
        state_sharding_fn=state_sharding_fn(config.get("mesh")),
    )
    num_params = parameter_count(state.params)
    logging.info(
        "Model %s: %s parameters; data %s %s; %d devices in %d processes.",
        config.model.name,
        f"{num_params:,}",
        spec.info.name,
        spec.example_shape,
        mesh.size,
        jax.process_count(),
    )

    train_step = jax.jit(
        fuse_steps(
            make_train_step(
                graphdef,
                spec.objective,
                optimizer,
                build_schedule(config.optimizer, num_steps),
                compute_dtype=config.train.get("compute_dtype"),
            )
        ),
        in_shardings=(shardings, batch_sharding(mesh, leading_axes=1)),
        out_shardings=(shardings, replicated(mesh)),
        donate_argnums=0,
    )
    eval_step = jax.jit(
        make_eval_step(graphdef, spec.objective),
        in_shardings=(shardings, batch_sharding(mesh), replicated(mesh)),
        out_shardings=replicated(mesh),
    )

    batches = make_train_batches(
        config, spec.transform, spec.example_shape, train_source, mesh, seed=data_seed(config)
    )
    checkpointer = Checkpointer(
        os.path.join(workdir, "checkpoints"),
        keep=config.train.get("keep_checkpoints", 2),
        best_metric=config.train.get("best_metric", "eval/loss"),
        best_mode=config.train.get("best_mode", "min"),
    )
    early_stopping = EarlyStopping(
        metric=config.train.get("best_metric", "eval/loss"),
        mode=config.train.get("best_mode", "min"),
        patience=config.train.get("early_stopping_patience", 0),
        min_delta=config.train.get("early_stopping_min_delta", 0.0),
    )
    window = MetricWindow()
    train_seconds = 0.0
    start_step = checkpointer.latest_step()
    if start_step is not None:
        state, loop_state = checkpointer.restore(
            start_step, abstract_with_shardings(state, shardings), batches
        )
        window = MetricWindow(loop_state["window"])
        early_stopping.load_state_dict(loop_state["early_stopping"])
        train_seconds = loop_state["train_seconds"]
        logging.info(
            "Resuming from the checkpoint at step %d in %s (training to step %d).",
            start_step,
            checkpointer.directory,
            num_steps,
        )
    last_checkpoint = start_step
    step = int(jax.device_get(state.step))

    writer = MetricWriter(workdir, is_chief=is_chief, resume_step=step)
    snapshots = ImageSnapshots(
        workdir, graphdef, spec, eval_source, config, mesh, is_chief=is_chief
    )
    if is_chief:
        _write_run_info(workdir, config, num_params, mesh)

    def loop_state() -> dict:
        return {
            "window": window.state_dict(),
            "early_stopping": early_stopping.state_dict(),
            "train_seconds": train_seconds,
        }

    progress = Progress(step, num_steps)
    pending: list[tuple[int, dict]] = []  # (first step, per-step metrics on device)
    eval_metrics: dict[str, float] = {}
    stopped_early = False
    call_start = time.perf_counter()

    def flush_pending() -> None:
        for first, metrics in pending:
            per_step = jax.device_get(metrics)
            _check_finite(per_step, first, last_checkpoint)
            window.add({f"train/{name}": v for name, v in per_step.items()})
        pending.clear()

    def every(interval: int, at: int) -> bool:
        return interval > 0 and at % interval == 0

    try:
        while step < num_steps:
            next_event = min(
                num_steps,
                *(
                    (step // loop[name] + 1) * loop[name]
                    for name in ("log_every", "eval_every", "checkpoint_every")
                    if loop[name] > 0
                ),
            )
            k = min(loop["steps_per_call"], next_event - step)
            state, metrics = train_step(state, batches.next_stacked(k))
            pending.append((step, metrics))
            step += k

            is_last = step == num_steps
            do_log = every(loop["log_every"], step) or is_last
            do_checkpoint = every(loop["checkpoint_every"], step) or is_last
            do_eval = every(loop["eval_every"], step) or do_checkpoint
            if not (do_log or do_eval):
                continue
            flush_pending()
            now = time.perf_counter()
            train_seconds += now - call_start
            if do_log and window.count:
                scalars = window.means()
                steps_per_sec = progress.report(
                    step, {n: v for n, v in scalars.items() if n.endswith("loss")}
                )
                writer.write_scalars(
                    step,
                    {**scalars, "train/steps_per_sec": steps_per_sec},
                )
                # Windows stay aligned to multiples of log_every: a run that ends (and is
                # later extended) mid-window logs the partial window but keeps summing it,
                # so the extended run logs what an uninterrupted one would.
                if every(loop["log_every"], step):
                    window.reset()
            if do_eval:
                eval_metrics = evaluate(
                    eval_step, state, eval_source, spec, mesh, config, global_batch_size=eval_batch
                )
                writer.write_scalars(step, eval_metrics)
                logging.info(
                    "eval at step %d: %s",
                    step,
                    " ".join(f"{n}={v:.5g}" for n, v in eval_metrics.items()),
                )
                snapshots.write(step, state, writer)
                stopped_early = early_stopping.update(step, eval_metrics)
            if do_checkpoint or stopped_early:
                checkpointer.save(step, state, batches, loop_state(), metrics=eval_metrics)
                last_checkpoint = step
            if do_eval:
                for callback in callbacks:
                    callback.on_evaluation(step, eval_metrics)
            if stopped_early:
                logging.info(
                    "Early stopping at step %d: %s has not improved for %d evaluations "
                    "(best %.5g at step %s).",
                    step,
                    early_stopping.metric,
                    early_stopping.evals_without_improvement,
                    early_stopping.best,
                    early_stopping.best_step,
                )
                break
            call_start = time.perf_counter()
    finally:
        checkpointer.close()
        writer.close()

    if is_chief:
        _update_run_info(
            workdir,
            final_step=step,
            train_seconds=train_seconds,
            best_step=checkpointer.best_step(),
            stopped_early=stopped_early,
        )
    logging.info("Done at step %d; outputs in %s.", step, workdir)
    return eval_metrics


def _write_run_info(workdir: str, config, num_params: int, mesh) -> None:
    path = os.path.join(workdir, "run_info.json")
    info = {}
    if os.path.exists(path):
        with open(path) as f:
            info = json.load(f)
    info.update(
        model=config.model.name,
        parameter_count=num_params,
        devices=[str(d.device_kind) for d in mesh.devices.flat],
        num_devices=int(mesh.size),
        num_processes=jax.process_count(),
        platform=jax.default_backend(),
        jax_version=jax.__version__,
    )
    with open(path, "w") as f:
        json.dump(info, f, indent=2)


def _update_run_info(workdir: str, **fields) -> None:
    path = os.path.join(workdir, "run_info.json")
    with open(path) as f:
        info = json.load(f)
    info.update(fields)
    with open(path, "w") as f:
        json.dump(info, f, indent=2)
