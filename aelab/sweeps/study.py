"""The Optuna study behind a sweep: its trial slots, and trials grouped by slot.

`prepare_study` creates the study and enqueues one WAITING trial per planned trial (a
"slot"; grid points carry their fixed parameters, other slots are sampled when a worker
takes them). Workers take slots atomically, so N planned trials give exactly N trials
however many workers race, and a rerun of the sweep only runs what is left. A slot
whose worker died is failed by the heartbeat check and re-queued as a new Optuna trial;
`attempts_by_slot` groups such attempts back under their slot (the first trial's
number), which also names the trial's work directory.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict

import optuna
from absl import logging
from optuna.trial import FrozenTrial, TrialState

from aelab.sweeps.definition import Sweep

DESCRIPTION_ATTR = "aelab_sweep"
SLOTS_ATTR = "aelab_slots"
FINISHED_STATES = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


def study_pruner(sweep: Sweep) -> optuna.pruners.BasePruner:
    """The sweep's pruner; Sweep.pruner None never prunes (Optuna's own default for
    None would be a median pruner)."""
    return sweep.pruner if sweep.pruner is not None else optuna.pruners.NopPruner()


def prepare_study(
    sweep: Sweep, storage: optuna.storages.BaseStorage, study_name: str
) -> optuna.Study:
    """Creates (or reopens) the study and enqueues the slots not yet planned.

    Rerunning with a larger `num_trials` adds slots; completed trials stay as they are.
    """
    study = optuna.create_study(
        study_name=study_name,
        storage=storage,
        direction=sweep.direction,
        sampler=sweep.make_sampler(),
        pruner=study_pruner(sweep),
        load_if_exists=True,
    )
    description = sweep.describe()
    stored = study.user_attrs.get(DESCRIPTION_ATTR)
    if stored is not None and _search_fields(stored) != _search_fields(description):
        raise ValueError(
            f"Study {study_name!r} was created by a sweep with a different search space or "
            f"objective ({json.dumps(_search_fields(stored))}); use a new --sweep_dir or "
            "--study_name for a different sweep."
        )
    study.set_user_attr(DESCRIPTION_ATTR, description)
    planned = int(study.user_attrs.get(SLOTS_ATTR, 0))
    if planned < sweep.num_trials:
        grid = sweep.grid()
        for index in range(planned, sweep.num_trials):
            study.enqueue_trial(grid[index] if grid is not None else {})
        study.set_user_attr(SLOTS_ATTR, sweep.num_trials)
        logging.info("Study %s: planned trials %d -> %d.", study_name, planned, sweep.num_trials)
    return study


def _search_fields(description: dict) -> dict:
    return {k: description.get(k) for k in ("space", "metric", "direction", "config_file")}


def wait_for_study(
    sweep: Sweep,
    storage: optuna.storages.BaseStorage,
    study_name: str,
    *,
    timeout: float,
    worker_index: int = 0,
) -> optuna.Study:
    """Loads a study that another machine's `sweep.py` prepares (for `--worker`)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            study = optuna.load_study(
                study_name=study_name,
                storage=storage,
                sampler=sweep.make_sampler(worker_index),
                pruner=study_pruner(sweep),
            )
            if SLOTS_ATTR in study.user_attrs:
                return study
        except KeyError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"Study {study_name!r} was not prepared within {timeout:.0f} s. Start "
                "`experiments/sweep.py` without --worker (same --sweep, --storage and "
                "--study_name) on one machine first."
            )
        time.sleep(2.0)


def slot_of(trial: FrozenTrial) -> int:
    """The slot (first attempt's trial number) a trial belongs to."""
    return int(trial.system_attrs.get("failed_trial", trial.number))


def attempts_by_slot(study: optuna.Study) -> dict[int, list[FrozenTrial]]:
    """{slot: its attempts in order}; the last attempt is the slot's current state."""
    slots: dict[int, list[FrozenTrial]] = defaultdict(list)
    for trial in study.get_trials(deepcopy=False):
        slots[slot_of(trial)].append(trial)
    return {slot: sorted(trials, key=lambda t: t.number) for slot, trials in sorted(slots.items())}


def unfinished_slots(study: optuna.Study) -> list[int]:
    """Slots whose latest attempt is still waiting or running."""
    return [
        slot
        for slot, attempts in attempts_by_slot(study).items()
        if attempts[-1].state not in FINISHED_STATES
    ]


def slot_states(study: optuna.Study) -> dict[str, int]:
    """How many slots end in each state, e.g. {"COMPLETE": 5, "PRUNED": 1}."""
    counts: dict[str, int] = defaultdict(int)
    for attempts in attempts_by_slot(study).values():
        counts[attempts[-1].state.name] += 1
    return dict(counts)
