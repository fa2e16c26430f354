"""One sweep worker: takes trial slots from the study and trains each as a normal run.

A trial is `train_and_evaluate(config, workdir)` in `sweep_dir/trials/trial_NNNN`, so it
can be inspected, evaluated and resumed like any run. Each evaluation is reported to
Optuna (for pruning and the results table). While a trial runs, a thread beats its
heartbeat in the storage; a worker that dies stops beating, and after the grace period
any worker fails that attempt and re-queues the slot, and the retry resumes from the
trial's own checkpoints. A lock file in the trial's work directory keeps two live
processes from training one run at once (if a slow heartbeat made a live trial look
dead, its retry waits for it and then finds the run finished).

A trial that finishes records its values and objective for TensorBoard's HParams tab
(`write_trial_hparams`).

Failures that belong to one trial (a NaN loss, a sampled value the config rejects) are
recorded on the trial with their error and the worker goes on; anything else is
recorded and stops the worker.
"""

from __future__ import annotations

import math
import os
import signal
import socket
import threading
import time
import warnings

import filelock
import optuna
from absl import logging
from optuna.trial import TrialState

from aelab.evaluation import train_and_evaluate
from aelab.sweeps.definition import Sweep
from aelab.sweeps.storage import retry_stale_trial_callback
from aelab.sweeps.study import slot_of
from aelab.training import NonFiniteLossError, TrainCallback
from aelab.training.loop import LoopOptions
from aelab.training.metric_writer import read_metrics, write_hparams

# Errors that fail one trial but not the sweep: divergence, and values the config or
# model rejects (ValueError; TypeError for a value of the wrong type for its field).
TRIAL_ERRORS = (NonFiniteLossError, ValueError, TypeError)


def trial_workdir(sweep_dir: str, slot: int) -> str:
    return os.path.join(os.path.abspath(sweep_dir), "trials", f"trial_{slot:04d}")


class TrialReporter(TrainCallback):
    """Training callback: reports each evaluation to Optuna and prunes.

    Raising `optuna.TrialPruned` in `on_evaluation` is safe: the loop has saved that
    step's checkpoint first. The best evaluation (Sweep.value "best") is tracked over
    the steps `checkpointed(step)` says have a checkpoint, so that a trial is worth what
    a checkpoint it keeps reached, not an evaluation between checkpoints.
    """

    def __init__(
        self,
        trial: optuna.Trial,
        metric: str,
        direction: str,
        *,
        previous: optuna.trial.FrozenTrial | None = None,
        checkpointed=lambda step: True,
    ):
        self.trial = trial
        self.metric = metric
        self.checkpointed = checkpointed
        self.sign = 1.0 if direction == "minimize" else -1.0
        # A retried trial inherits what its killed attempt reported and its best so far.
        attrs = previous.user_attrs if previous is not None else {}
        self.best: dict[str, float] | None = attrs.get("best_metrics")
        self.best_step: int | None = attrs.get("best_step")
        self.reported = set(previous.intermediate_values) if previous is not None else set()

    def on_evaluation(self, step: int, metrics: dict[str, float]) -> None:
        if self.metric not in metrics:
            raise ValueError(
                f"The sweep's metric {self.metric!r} is not among the evaluation metrics "
                f"({', '.join(sorted(metrics))}); set Sweep.metric to one of them."
            )
        value = float(metrics[self.metric])
        if (
            math.isfinite(value)
            and self.checkpointed(step)
            and (self.best is None or self.sign * value < self.sign * self.best[self.metric])
        ):
            self.best, self.best_step = dict(metrics), step
            self.trial.set_user_attr("best_metrics", self.best)
            self.trial.set_user_attr("best_step", step)
        self.trial.set_user_attr("steps", step)
        if math.isfinite(value) and step not in self.reported:
            self.trial.report(value, step)
            self.reported.add(step)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"pruned at step {step}: {self.metric}={value:.5g}")


class Heartbeat:
    """Beats a trial's heartbeat from a thread until stopped."""

    def __init__(self, storage, trial_id: int):
        self._storage, self._trial_id = storage, trial_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        interval = self._storage.get_heartbeat_interval()
        while not self._stop.wait(interval):
            try:
                self._storage.record_heartbeat(self._trial_id)
            except Exception as e:  # a transient database error must not kill the trial
                logging.warning("Heartbeat of trial id %d failed: %s", self._trial_id, e)

    def __enter__(self):
        self._storage.record_heartbeat(self._trial_id)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _write_holder(fd: int) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{socket.gethostname()}:{os.getpid()}\n".encode(), 0)


def _trial_lock(workdir: str) -> filelock.FileLock:
    """An exclusive lock on the trial's run, waited for; the OS releases it if the
    process dies. The file names the holder ("host:pid")."""
    os.makedirs(workdir, exist_ok=True)
    return filelock.FileLock(
        os.path.join(workdir, ".trial.lock"), preserve_lock_file=True, on_acquired=_write_holder
    )


def _latest_checkpoint_step(workdir: str) -> int | None:
    directory = os.path.join(workdir, "checkpoints")
    if not os.path.isdir(directory):
        return None
    steps = [
        int(name)
        for name in os.listdir(directory)
        if name.isdigit() and os.path.exists(os.path.join(directory, name, "commit_success.txt"))
    ]
    return max(steps, default=None)


def pop_waiting_trial(study: optuna.Study, sweep_dir: str) -> int | None:
    """Atomically moves one WAITING trial to RUNNING; its id, or None if none is left.

    `study.ask()` would create a new trial when the queue is empty, so with several
    workers a sweep could overshoot its planned number of trials; this is the queue half
    of `ask()` alone (through the study's cached storage, which must see the trial).

    Optuna's pop is a read then a write; on SQLite, which has no row locks, two workers
    popping at once both got the same trial (measured: 6 of 8 races of two processes
    over 6 queued trials), trained it with different sampled values into one work
    directory. An exclusive file lock (flock) on `sweep_dir/.queue.lock` makes the pop
    atomic among the workers sharing the sweep directory (PostgreSQL's row locks
    already do).
    """
    os.makedirs(sweep_dir, exist_ok=True)
    with filelock.FileLock(os.path.join(sweep_dir, ".queue.lock")):
        return study._pop_waiting_trial_id()


def fail_stale_trials(study: optuna.Study) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


def _has_running_trials(study: optuna.Study) -> bool:
    return bool(study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))


def run_trial(
    trial: optuna.Trial,
    slot: int,
    sweep: Sweep,
    sweep_dir: str,
    previous: optuna.trial.FrozenTrial | None = None,
) -> float:
    """Trains one trial of `slot` in the slot's work directory; returns the final (or,
    with Sweep.value "best", the best) value of the sweep's metric. `previous`: this
    attempt's stored state (a retry's inherited reports and best metrics)."""
    workdir = trial_workdir(sweep_dir, slot)
    trial.set_user_attr("workdir", workdir)
    trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
    params = {name: dimension.suggest(trial, name) for name, dimension in sweep.space.items()}
    config = sweep.trial_config(params)
    loop = LoopOptions.from_section(config.train, path="train")
    reporter = TrialReporter(
        trial,
        sweep.metric,
        sweep.direction,
        previous=previous,
        checkpointed=lambda step: (
            step == loop.num_steps
            or (loop.checkpoint_every > 0 and step % loop.checkpoint_every == 0)
        ),
    )
    with _trial_lock(workdir):
        resumed_from = _latest_checkpoint_step(workdir)
        if resumed_from is not None:
            trial.set_user_attr("resumed_from_step", resumed_from)
        logging.info(
            "Trial %d (attempt %d): %s%s",
            slot,
            trial.number,
            params,
            f", resuming at step {resumed_from}" if resumed_from is not None else "",
        )
        metrics = train_and_evaluate(config, workdir, callbacks=[reporter])
    if not metrics:
        # The run had already finished (its earlier attempt completed it): nothing was
        # evaluated now, so take its last logged evaluation.
        step, metrics = _last_evaluation(workdir)
        trial.set_user_attr("steps", step)
    value = float(metrics.get(sweep.metric, math.nan))
    if sweep.value == "best" and reporter.best is not None:
        value = float(reporter.best[sweep.metric])
    trial.set_user_attr("final_metrics", {k: float(v) for k, v in metrics.items()})
    if not math.isfinite(value):
        raise NonFiniteLossError(f"The final {sweep.metric} is {value}.")
    write_trial_hparams(workdir, params, value, metrics)
    return value


def write_trial_hparams(
    workdir: str, params: dict, value: float, final_metrics: dict[str, float]
) -> None:
    """A finished trial's sampled values, its objective ("sweep/objective") and final
    metrics ("final/<name>") for TensorBoard's HParams tab (`write_hparams`):
    `tensorboard --logdir=<sweep_dir>/trials` compares the trials."""
    metrics = {"sweep/objective": value}
    metrics.update({f"final/{name}": v for name, v in final_metrics.items()})
    write_hparams(workdir, params, metrics)


def _last_evaluation(workdir: str) -> tuple[int | None, dict[str, float]]:
    evaluations = [r for r in read_metrics(workdir) if any(k.startswith("eval/") for k in r)]
    if not evaluations:
        return None, {}
    last = evaluations[-1]
    return last["step"], {k: v for k, v in last.items() if k.startswith("eval/")}


def _attempt(study: optuna.Study, storage, trial_id: int, sweep: Sweep, sweep_dir: str) -> None:
    """Runs one attempt and records its outcome in the study."""
    start = time.time()
    trial = optuna.Trial(study, trial_id)
    try:
        stored = storage.get_trial(trial_id)
        value = run_trial(trial, slot_of(stored), sweep, sweep_dir, previous=stored)
    except optuna.TrialPruned as e:
        trial.set_user_attr("wall_seconds", time.time() - start)
        study.tell(trial, state=TrialState.PRUNED)
        logging.info("Trial attempt %d pruned (%s).", trial.number, e)
        return
    except TRIAL_ERRORS as e:
        _record_failure(study, trial, e, start)
        return
    except Exception as e:
        _record_failure(study, trial, e, start)
        raise
    except BaseException:
        # Interrupted (Ctrl-C, SIGTERM): give the slot back so a rerun resumes it.
        trial.set_user_attr("error", "interrupted")
        study.tell(trial, state=TrialState.FAIL)
        retry_stale_trial_callback()(study, storage.get_trial(trial_id))
        raise
    trial.set_user_attr("wall_seconds", time.time() - start)
    study.tell(trial, value)
    logging.info("Trial attempt %d finished: %s=%.6g.", trial.number, sweep.metric, value)


def _record_failure(study, trial, error: BaseException, start: float) -> None:
    message = f"{type(error).__name__}: {error}"
    trial.set_user_attr("error", message[:2000])
    trial.set_user_attr("wall_seconds", time.time() - start)
    study.tell(trial, state=TrialState.FAIL)
    logging.warning("Trial attempt %d failed: %s", trial.number, message)


def run_worker(
    sweep: Sweep,
    study: optuna.Study,
    storage: optuna.storages.RDBStorage,
    sweep_dir: str,
    *,
    poll_seconds: float = 1.0,
) -> int:
    """Runs trials of `study` (kept in `storage`) until no slot is waiting and none is
    running anywhere.

    While other workers' trials run, it waits: if one of them dies, this worker retries
    its trial after the grace period. Returns the number of attempts it ran.
    """
    attempts = 0
    while True:
        fail_stale_trials(study)
        trial_id = pop_waiting_trial(study, sweep_dir)
        if trial_id is None:
            if not _has_running_trials(study):
                return attempts
            time.sleep(poll_seconds)
            continue
        attempts += 1
        with Heartbeat(storage, trial_id):
            _attempt(study, storage, trial_id, sweep, sweep_dir)


def raise_keyboard_interrupt_on_sigterm() -> None:
    """SIGTERM behaves like Ctrl-C, so a terminated worker gives its slot back."""

    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, handler)
