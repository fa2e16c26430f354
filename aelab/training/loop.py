"""`train_and_evaluate`: the training loop.

config -> data pipeline -> sharded train state -> jitted (fused) steps -> periodic
logging, evaluation, image grids and checkpoints -> work directory. A rerun in the same
work directory resumes from its latest checkpoint: parameters, optimizer state, rng,
step, data-iterator position and the loop's own bookkeeping, so an interrupted run ends
bit-identical to an uninterrupted one.

Reliability (docs/reliability.md): the config is validated before anything compiles;
one run at a time holds the work directory; a rerun with a different config must say
so (`config_mismatch`); SIGTERM / SIGINT checkpoint at the next step boundary and stop;
damaged checkpoints fall back to the previous good one; non-finite losses stop the run
or skip the update (`config.train.nonfinite`).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from typing import Protocol

import jax
import numpy as np
from absl import logging

from aelab.config_validation import validate_config
from aelab.data import load_split
from aelab.data.pipeline import ProcessSlice, eval_batches, to_global_arrays
from aelab.training.atomic_files import write_json_atomically
from aelab.training.batches import make_train_batches
from aelab.training.checkpointing import Checkpointer, abstract_with_shardings
from aelab.training.distributed import initialize_distributed
from aelab.training.early_stopping import EarlyStopping
from aelab.training.experiment import RunSpec, build_run_spec
from aelab.training.log_filter import quiet_library_info_logs
from aelab.training.mesh import batch_sharding, make_data_mesh, replicated, state_sharding_fn
from aelab.training.metric_writer import MetricWriter
from aelab.training.nonfinite import NonFiniteGuard, NonFiniteLossError, skip_nonfinite_updates
from aelab.training.optimizers import build_optimizer
from aelab.training.preemption import PreemptionWatcher
from aelab.training.progress import Progress
from aelab.training.saved_config import reconcile_saved_config
from aelab.training.schedules import build_schedule
from aelab.training.seeds import data_seed
from aelab.training.snapshots import ImageSnapshots
from aelab.training.state import create_train_state, parameter_count
from aelab.training.step import fuse_steps, make_eval_step, make_train_step
from aelab.training.workdir_lock import WorkdirLock

__all__ = ["NonFiniteLossError", "TrainCallback", "evaluate", "train_and_evaluate"]


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
    config,
    workdir: str,
    *,
    callbacks: Sequence[TrainCallback] = (),
    config_mismatch: str = "error",
) -> dict[str, float]:
    """Trains the model described by `config`, writing everything into `workdir`.

    Resumes from the latest intact checkpoint in `workdir/checkpoints` if there is one.

    Args:
      config: the experiment config (see `aelab.defaults.base_config()`).
      workdir: the work directory; one run at a time may use it.
      callbacks: called after each evaluation.
      config_mismatch: what to do when `config` differs from the config saved with the
        run's checkpoints (beyond `saved_config.CONTINUATION_FIELDS` such as
        `train.num_steps`): "error" (default) or "resume" with the new config.

    Returns:
      The last evaluation metrics ({"eval/<name>": value}).

    Raises:
      ConfigError: an invalid config, before anything is built or compiled.
      WorkdirLockedError: another live run uses `workdir`.
      ConfigMismatchError: see `config_mismatch`.
      TrainingPreempted: SIGTERM / SIGINT arrived; a checkpoint was saved first.
      NonFiniteLossError: a NaN or infinite loss (`config.train.nonfinite`).
    """
    quiet_library_info_logs()
    initialize_distributed(config.get("distributed"))
    validate_config(config)
    workdir = os.path.abspath(workdir)
    with (
        WorkdirLock(workdir, enabled=jax.process_index() == 0),
        PreemptionWatcher() as preemption,
    ):
        return _train_and_evaluate(config, workdir, callbacks, config_mismatch, preemption)


def _train_and_evaluate(
    config,
    workdir: str,
    callbacks: Sequence[TrainCallback],
    config_mismatch: str,
    preemption: PreemptionWatcher,
) -> dict[str, float]:
    is_chief = jax.process_index() == 0
    # Opening the checkpoints deletes temporary directories of killed saves: the work
    # directory lock is held, so none of them belongs to a live run.
    checkpointer = Checkpointer(
        os.path.join(workdir, "checkpoints"),
        keep=config.train.get("keep_checkpoints", 2),
        best_metric=config.train.get("best_metric", "eval/loss"),
        best_mode=config.train.get("best_mode", "min"),
    )
    reconcile_saved_config(
        config,
        workdir,
        resume_step=checkpointer.latest_step(),
        on_mismatch=config_mismatch,
        write=is_chief,
    )

    spec = build_run_spec(config)
    loop = _train_config(config)
    num_steps = loop["num_steps"]
    train_source, _ = load_split(config.data, config.data.get("train_split", "train"))
    eval_source, _ = load_split(config.data, config.data.get("eval_split", "test"))

    mesh = make_data_mesh(config.get("mesh", {}).get("num_devices"))
    global_batch = int(config.data.batch_size)  # Divides among the devices: validated.
    eval_batch = int(config.data.get("eval_batch_size") or global_batch)

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
    # Imported here: aelab.evaluation builds on aelab.training.
    from aelab.evaluation.periodic import PeriodicEvaluation

    periodic_evals = PeriodicEvaluation(config, workdir, graphdef, spec, is_chief=is_chief)
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

    one_step = make_train_step(
        graphdef,
        spec.objective,
        optimizer,
        build_schedule(config.optimizer, num_steps),
        compute_dtype=config.train.get("compute_dtype"),
    )
    nonfinite = NonFiniteGuard(
        config.train.get("nonfinite", "stop"), config.train.get("nonfinite_patience", 0)
    )
    if nonfinite.policy == "skip":
        one_step = skip_nonfinite_updates(one_step)
    train_step = jax.jit(
        fuse_steps(one_step),
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
    early_stopping = EarlyStopping(
        metric=config.train.get("best_metric", "eval/loss"),
        mode=config.train.get("best_mode", "min"),
        patience=config.train.get("early_stopping_patience", 0),
        min_delta=config.train.get("early_stopping_min_delta", 0.0),
    )
    window = MetricWindow()
    train_seconds = 0.0
    start_step = None
    restored = checkpointer.restore_latest(abstract_with_shardings(state, shardings), batches)
    if restored is not None:
        start_step, state, loop_state = restored
        window = MetricWindow(loop_state["window"])
        early_stopping.load_state_dict(loop_state["early_stopping"])
        nonfinite = NonFiniteGuard(nonfinite.policy, nonfinite.patience, loop_state["nonfinite"])
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
            "nonfinite": nonfinite.state_dict(),
            "train_seconds": train_seconds,
        }

    progress = Progress(step, num_steps)
    pending: list[tuple[int, dict]] = []  # (first step, per-step metrics on device)
    eval_metrics: dict[str, float] = {}
    stopped_early = False
    call_start = time.perf_counter()

    def flush_pending() -> None:
        for first, metrics in pending:
            per_step = nonfinite.filter(jax.device_get(metrics), first, last_checkpoint)
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
            # A preemption checkpoint is not an evaluation step: the resumed run logs and
            # evaluates exactly what an uninterrupted one would.
            preempted = preemption.should_stop() and not is_last
            if not (do_log or do_eval or preempted):
                continue
            flush_pending()
            now = time.perf_counter()
            train_seconds += now - call_start
            if do_log and window.count:
                scalars = window.means()
                steps_per_sec = progress.report(
                    step, {n: v for n, v in scalars.items() if n.endswith("loss")}
                )
                if nonfinite.policy == "skip":
                    scalars["train/skipped_steps"] = nonfinite.skipped_steps
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
                eval_metrics.update(
                    periodic_evals(step, state, is_last=is_last, train_seconds=train_seconds)
                )
                writer.write_scalars(step, eval_metrics)
                logging.info(
                    "eval at step %d: %s",
                    step,
                    " ".join(f"{n}={v:.5g}" for n, v in eval_metrics.items()),
                )
                snapshots.write(step, state, writer)
                stopped_early = early_stopping.update(step, eval_metrics)
            if do_checkpoint or stopped_early or preempted:
                checkpointer.save(
                    step, state, batches, loop_state(), metrics=eval_metrics if do_eval else None
                )
                last_checkpoint = step
            if preempted:
                checkpointer.wait()
                raise preemption.preempted(step, workdir)
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
        try:
            checkpointer.close()  # Waits for the last save; raises if it failed.
        finally:
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


def _read_run_info(path: str) -> dict:
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}
    except ValueError:
        logging.warning("%s is unreadable (damaged); writing it afresh.", path)
        return {}


def _write_run_info(workdir: str, config, num_params: int, mesh) -> None:
    path = os.path.join(workdir, "run_info.json")
    info = _read_run_info(path)
    info.update(
        model=config.model.name,
        parameter_count=num_params,
        devices=[str(d.device_kind) for d in mesh.devices.flat],
        num_devices=int(mesh.size),
        num_processes=jax.process_count(),
        platform=jax.default_backend(),
        jax_version=jax.__version__,
    )
    write_json_atomically(path, info, indent=2)


def _update_run_info(workdir: str, **fields) -> None:
    path = os.path.join(workdir, "run_info.json")
    info = _read_run_info(path)
    info.update(fields)
    write_json_atomically(path, info, indent=2)
