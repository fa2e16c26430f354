"""A sweep whose trials train together as vmapped populations (`Sweep.population_size`).

The study, slots, storage and results tables are those of any sweep: up to P waiting
slots are taken at once, their values sampled, and the P members trained in one
`train_population` run under `sweep_dir/populations/`; each member is then told to its
trial like a normal run's result. Members beat their trials' heartbeats while they
train, so a killed population is retried (and resumes from its checkpoint) on rerun.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time

import optuna
from absl import logging
from optuna.trial import TrialState

from aelab.sweeps.definition import Sweep
from aelab.sweeps.population import check_vmappable, train_population
from aelab.sweeps.study import slot_of
from aelab.sweeps.worker import (
    Heartbeat,
    fail_stale_trials,
    pop_waiting_trial,
    write_trial_hparams,
)


def run_population_sweep(
    sweep: Sweep,
    study: optuna.Study,
    storage: optuna.storages.RDBStorage,
    sweep_dir: str,
) -> int:
    """Trains the study's waiting slots, P at a time; returns the number of populations."""
    config = sweep.base_config()
    check_vmappable(list(sweep.space), config)
    if sweep.pruner is not None:
        raise ValueError(
            "Population sweeps train members together and cannot prune; set Sweep.pruner to None."
        )
    populations = 0
    while True:
        fail_stale_trials(study)
        trial_ids = []
        while len(trial_ids) < sweep.population_size:
            trial_id = pop_waiting_trial(study, sweep_dir)
            if trial_id is None:
                break
            trial_ids.append(trial_id)
        if not trial_ids:
            return populations
        populations += 1
        _train_one_population(sweep, study, storage, sweep_dir, trial_ids, config)


def _train_one_population(sweep, study, storage, sweep_dir, trial_ids, config):
    trials = [optuna.Trial(study, trial_id) for trial_id in trial_ids]
    slots = [slot_of(storage.get_trial(trial_id)) for trial_id in trial_ids]
    members = [
        {name: dimension.suggest(trial, name) for name, dimension in sweep.space.items()}
        for trial in trials
    ]
    workdir = os.path.join(
        os.path.abspath(sweep_dir), "populations", f"population_{slots[0]:04d}_{len(slots)}"
    )
    for index, trial in enumerate(trials):
        trial.set_user_attr("workdir", os.path.join(workdir, "members", f"member_{index:02d}"))
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
    logging.info("Population of %d (trials %s) in %s.", len(trials), slots, workdir)

    sign = 1.0 if sweep.direction == "minimize" else -1.0
    best_values: list[float | None] = [None] * len(trials)

    def report(step: int, metrics: list[dict[str, float]]) -> None:
        for index, (trial, member_metrics) in enumerate(zip(trials, metrics, strict=True)):
            trial.set_user_attr("steps", step)
            value = member_metrics.get(sweep.metric)
            if value is not None and value == value:  # not NaN
                trial.report(float(value), step)
                best = best_values[index]
                if best is None or sign * float(value) < sign * best:
                    best_values[index] = float(value)

    start = time.time()
    with contextlib.ExitStack() as stack:
        for trial_id in trial_ids:
            stack.enter_context(Heartbeat(storage, trial_id))
        try:
            results = train_population(
                config, members, workdir, strategy=sweep.population_strategy, on_evaluation=report
            )
        except (ValueError, TypeError) as e:
            # The population as a whole rejected its values (e.g. a dropout rate of 0).
            for trial in trials:
                trial.set_user_attr("error", f"{type(e).__name__}: {e}"[:2000])
                study.tell(trial, state=TrialState.FAIL)
            logging.warning("Population failed: %s", e)
            return
    seconds = time.time() - start
    for index, (trial, result) in enumerate(zip(trials, results, strict=True)):
        trial.set_user_attr("final_metrics", result.final_metrics)
        if result.best_metrics is not None:
            trial.set_user_attr("best_metrics", result.best_metrics)
            trial.set_user_attr("best_step", result.best_step)
        trial.set_user_attr("steps", result.steps)
        trial.set_user_attr("wall_seconds", seconds)
        value = result.final_metrics.get(sweep.metric)
        if sweep.value == "best" and value is not None and best_values[index] is not None:
            value = best_values[index]
        if result.error is not None or value is None:
            trial.set_user_attr("error", result.error or f"no {sweep.metric} in the metrics")
            study.tell(trial, state=TrialState.FAIL)
        else:
            study.tell(trial, float(value))
            write_trial_hparams(result.workdir, members[index], value, result.final_metrics)
