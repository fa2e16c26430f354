"""Runs a sweep: prepares its study, starts W worker processes, writes the results.

    run_sweep(SweepRun(sweep_spec="configs/sweeps/quickstart.py", sweep_dir="runs/sw"),
              num_workers=2)

Workers are separate processes (started with "spawn": JAX does not survive a fork),
each running `aelab.sweeps.worker.run_worker`. On other machines, `attach_workers`
(`sweep.py --worker`) joins a study that `run_sweep` prepared in a shared PostgreSQL.
Running the same command again continues the study: finished trials are kept, trials
that were interrupted or whose worker died are retried from their checkpoints.
"""

from __future__ import annotations

import dataclasses
import json
import logging as std_logging
import multiprocessing
import os
import signal
import threading

import optuna
from absl import logging

from aelab.sweeps.definition import load_sweep
from aelab.sweeps.population_sweep import run_population_sweep
from aelab.sweeps.report import write_report
from aelab.sweeps.storage import (
    GRACE_PERIOD,
    HEARTBEAT_INTERVAL,
    default_storage_url,
    open_storage,
    redact_url,
)
from aelab.sweeps.study import prepare_study, slot_states, unfinished_slots, wait_for_study
from aelab.sweeps.worker import raise_keyboard_interrupt_on_sigterm, run_worker


@dataclasses.dataclass(frozen=True)
class SweepRun:
    """Where and how a sweep runs (everything a worker process needs to join it).

    Attributes:
      sweep_spec: the sweep file, "path.py" or "path.py:arg".
      sweep_dir: trial work directories, the default SQLite study, results and plots.
      storage_url: None for `sweep_dir/study.db`, or "postgresql://user@host/db".
      study_name: None for the sweep dir's base name.
      heartbeat_interval: seconds between a running trial's heartbeats.
      grace_period: seconds without a heartbeat before a trial's worker counts as dead.
    """

    sweep_spec: str
    sweep_dir: str
    storage_url: str | None = None
    study_name: str | None = None
    heartbeat_interval: int = HEARTBEAT_INTERVAL
    grace_period: int = GRACE_PERIOD

    @property
    def url(self) -> str:
        return self.storage_url or default_storage_url(self.sweep_dir)

    @property
    def name(self) -> str:
        return self.study_name or os.path.basename(os.path.abspath(self.sweep_dir))

    def open_storage(self) -> optuna.storages.RDBStorage:
        """The study's storage at `url`, with this run's heartbeat settings."""
        return open_storage(
            self.url, heartbeat_interval=self.heartbeat_interval, grace_period=self.grace_period
        )

    def describe(self) -> dict:
        """For sweep_dir/sweep_run.json: the storage URL without its password."""
        fields = dataclasses.asdict(self)
        fields["storage_url"] = redact_url(self.url)
        fields["study_name"] = self.name
        return fields


def _worker_main(run: SweepRun, worker_index: int, prepared: bool) -> None:
    """A worker process: joins the study and runs trials until none is left."""
    raise_keyboard_interrupt_on_sigterm()
    # Interleaved lines of several workers stay readable with the worker's name on each.
    std_logging.basicConfig(
        format=f"%(asctime)s worker-{worker_index} %(levelname)s %(message)s",
        level=std_logging.INFO,
        force=True,
    )
    logging.set_verbosity(logging.INFO)
    sweep = load_sweep(run.sweep_spec)
    storage = run.open_storage()
    study = wait_for_study(
        sweep, storage, run.name, timeout=0 if prepared else 600, worker_index=worker_index
    )
    count = run_worker(sweep, study, storage, run.sweep_dir)
    logging.info(
        "Worker %d (pid %d) done after %d trial attempts.", worker_index, os.getpid(), count
    )


def _raise_on_sigterm():
    """Makes SIGTERM raise SystemExit in this (main) thread; returns the previous
    handler (None when not on the main thread, where handlers cannot be set)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum, frame):
        raise SystemExit(128 + signum)

    return signal.signal(signal.SIGTERM, handler)


def _run_workers(run: SweepRun, num_workers: int, *, prepared: bool) -> list[int]:
    """Starts `num_workers` processes and waits for them; returns their exit codes."""
    context = multiprocessing.get_context("spawn")
    # Worker indices seed the samplers: workers joining from other machines take indices
    # of their own, so that their random draws differ from the first machine's.
    first = 0 if prepared else 1 + (os.getpid() % 100_000) * 100
    processes = [
        context.Process(target=_worker_main, args=(run, index, prepared), name=f"worker-{index}")
        for index in range(first, first + num_workers)
    ]
    for process in processes:
        process.start()
        logging.info("Started sweep worker %s (pid %d).", process.name, process.pid)
    # `kill <pid>` of the sweep (SIGTERM) must stop its workers as Ctrl-C does: by
    # default it would end this process alone and leave them training.
    previous = _raise_on_sigterm()
    try:
        for process in processes:
            process.join()
    except BaseException:
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join()
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    codes = [process.exitcode for process in processes]
    for process, code in zip(processes, codes, strict=True):
        if code:
            logging.warning(
                "Sweep worker %s (pid %d) exited with %s; its running trial, if any, is "
                "retried by another worker or by a rerun.",
                process.name,
                process.pid,
                f"signal {-code}" if code < 0 else f"code {code}",
            )
    return codes


def run_sweep(run: SweepRun, *, num_workers: int = 1) -> bool:
    """Prepares the study, runs `num_workers` worker processes, writes the report.

    `num_workers=0` runs the trials in this process instead (for debugging and tests).
    Returns True when every planned trial has finished (complete, pruned or failed).
    """
    sweep = load_sweep(run.sweep_spec)
    os.makedirs(run.sweep_dir, exist_ok=True)
    with open(os.path.join(run.sweep_dir, "sweep_run.json"), "w") as f:
        json.dump({**run.describe(), "sweep": sweep.describe()}, f, indent=2)
    storage = run.open_storage()
    study = prepare_study(sweep, storage, run.name)
    logging.info(
        "Sweep %s: study %r in %s, %d planned trials, %d workers.",
        run.sweep_spec,
        run.name,
        redact_url(run.url),
        sweep.num_trials,
        num_workers,
    )
    if sweep.population_size:
        run_population_sweep(sweep, study, storage, run.sweep_dir)
    elif num_workers == 0:
        run_worker(sweep, study, storage, run.sweep_dir)
    elif unfinished_slots(study):
        _run_workers(run, num_workers, prepared=True)
    return finish(run, study)


def attach_workers(run: SweepRun, *, num_workers: int = 1) -> None:
    """Joins a study prepared elsewhere (`sweep.py --worker` on another machine)."""
    _run_workers(run, num_workers, prepared=False)


def finish(run: SweepRun, study: optuna.Study) -> bool:
    """Writes tables and plots; logs what is left. True if every slot has finished."""
    write_report(study, run.sweep_dir)
    left = unfinished_slots(study)
    logging.info("Trials by state: %s.", slot_states(study))
    if left:
        logging.warning(
            "%d trials have not finished (%s); rerun the same command to continue them.",
            len(left),
            ", ".join(map(str, left)),
        )
    return not left


def print_report(run: SweepRun) -> dict:
    """Rewrites the tables and plots of an existing study and prints the table and the
    best trial's command line. Returns `write_report`'s dict."""
    storage = run.open_storage()
    try:
        study = optuna.load_study(study_name=run.name, storage=storage)
    except KeyError:
        raise ValueError(
            f"No study {run.name!r} in {redact_url(run.url)}; check --sweep_dir, --storage "
            "and --study_name."
        ) from None
    report = write_report(study, run.sweep_dir)
    print(report["table"])
    plots = os.path.dirname(report["plots"][0])
    print(f"\nResults: {report['csv']}, {report['json']}; plots in {plots}")
    if report["best"] is not None:
        best = report["best"]
        print(f"Best trial {best['trial']}: value {best['value']:.6g}. Train it with:")
        print(report["command"])
    else:
        print("No trial has completed yet.")
    return report
