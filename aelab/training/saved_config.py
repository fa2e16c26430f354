"""The config saved in a work directory, and what happens when a rerun's config differs.

A rerun in a work directory with checkpoints continues that run. If its config differs
from the saved `config.json`, continuing could silently mix two experiments (a new
learning rate or model on top of old checkpoints). So a difference is an error unless
the caller says what to do (`on_mismatch`, the `--config_mismatch` flag of
experiments/train.py):

- "error" (default): stop before anything is trained, listing every changed field.
- "resume": continue the run with the new config; the change is logged and appended
  to `config_changes.jsonl` (step, time, old and new values), and `config.json` holds
  the new config.

Continuation fields may differ without asking (`CONTINUATION_FIELDS`): how long to
train (`train.num_steps`, the documented way to extend a finished run), how often to
log, evaluate and checkpoint, where the run executes (data folders, devices,
processes), and the warm start (`train.init_from`, read only before the first
checkpoint). They change what is computed next, never what was computed so far. The
learning-rate schedule may depend on `num_steps` (cosine decays over the run), so
extending such a run changes the rate from the resume step on; that is logged.

Without checkpoints there is nothing to mix: the new config simply replaces the old.
"""

from __future__ import annotations

import datetime
import fnmatch
import json
import os
from collections.abc import Callable

import ml_collections
from absl import logging

from aelab.core.atomic_files import write_text_atomically
from aelab.core.plugins import import_modules
from aelab.training.schedules import build_schedule, schedule_name

CONFIG_FILE = "config.json"
CHANGES_FILE = "config_changes.jsonl"
MISMATCH_MODES = ("error", "resume")
CONTINUATION_FIELDS = (
    "train.num_steps",
    "train.log_every",
    "train.eval_every",
    "train.checkpoint_every",
    "train.keep_checkpoints",
    "train.steps_per_call",
    # Read only when a run starts without checkpoints; what it started from is recorded
    # in run_info.json (`initialized_from`).
    "train.init_from",
    "data.data_dir",
    "data.tfds_data_dir",
    "data.in_memory",
    "data.device_resident",  # the same batches either way (tests/training/test_device_batches.py)
    "mesh.*",
    "distributed.*",
)


def read_config(workdir: str) -> ml_collections.ConfigDict:
    """The config a run was trained with (`workdir/config.json`), with the modules it
    names in `config.imports` imported (its own components register themselves)."""
    path = os.path.join(workdir, CONFIG_FILE)
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"No {CONFIG_FILE} in {workdir}: not a training work directory or an exported "
            "model. Train one with `python experiments/train.py --config=... --workdir=DIR` "
            "first."
        )
    try:
        with open(path) as f:
            values = json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(
            f"{path} is not valid JSON ({e}); rerun training (or the export) to rewrite it."
        ) from e
    config = ml_collections.ConfigDict(values)
    import_modules(config)
    return config


class ConfigMismatchError(ValueError):
    """The config differs from the one saved with the run's checkpoints."""


def changed_fields(old, new, prefix: str = "") -> dict[str, tuple]:
    """{"section.field": (old value, new value)} for every leaf that differs (JSON trees;
    a field missing on one side shows as None)."""
    if isinstance(old, dict) and isinstance(new, dict):
        changes = {}
        for key in sorted(set(old) | set(new)):
            changes.update(changed_fields(old.get(key), new.get(key), f"{prefix}{key}."))
        return changes
    return {} if old == new else {prefix.rstrip("."): (old, new)}


def is_continuation_field(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in CONTINUATION_FIELDS)


def _describe(changes: dict[str, tuple]) -> str:
    return "; ".join(f"{name}: {old!r} -> {new!r}" for name, (old, new) in changes.items())


def reconcile_saved_config(
    config,
    workdir: str,
    *,
    resume_step: int | None,
    on_mismatch: str = "error",
    write: bool = True,
    complete: Callable[[ml_collections.ConfigDict], ml_collections.ConfigDict] = lambda c: c,
) -> None:
    """Checks `config` against `workdir/config.json`, then saves it there.

    Args:
      config: the run's ConfigDict.
      workdir: the work directory.
      resume_step: the checkpoint the run will resume from; None when there is none.
      on_mismatch: "error" or "resume" (see the module docstring).
      write: whether this process writes files (process 0 only).
      complete: fills in the defaults of every declared field (the schema's
        `complete`): both configs are compared, and the new one saved, complete, so a
        field that one of them only leaves at its default is no difference.

    Raises:
      ConfigMismatchError: a non-continuation field differs and `on_mismatch` is "error".
    """
    if on_mismatch not in MISMATCH_MODES:
        raise ValueError(
            f"config_mismatch={on_mismatch!r} is not valid; choose one of "
            f"{', '.join(MISMATCH_MODES)}."
        )
    path = os.path.join(workdir, CONFIG_FILE)
    config = complete(config)
    text = config.to_json_best_effort(indent=2, sort_keys=True)
    if os.path.exists(path) and resume_step is not None:
        with open(path) as f:
            saved = f.read()
        try:
            saved_config = complete(ml_collections.ConfigDict(json.loads(saved)))
            changes = changed_fields(
                json.loads(saved_config.to_json_best_effort()), json.loads(text)
            )
        except (ValueError, TypeError, AttributeError):
            logging.warning("%s is unreadable; it is replaced by the current config.", path)
            changes = {}
        if changes:
            _check_changes(changes, path, resume_step, on_mismatch)
            _warn_if_learning_rate_jumps(json.loads(saved), config, resume_step)
            if write:
                _record_changes(workdir, changes, resume_step)
    if write:
        write_text_atomically(path, text)


def _check_changes(changes: dict, path: str, resume_step: int, on_mismatch: str) -> None:
    mixing = {name: values for name, values in changes.items() if not is_continuation_field(name)}
    continuing = {name: values for name, values in changes.items() if name not in mixing}
    if continuing:
        logging.info("Continuing the run with changed settings: %s.", _describe(continuing))
    if not mixing:
        return
    if on_mismatch == "error":
        raise ConfigMismatchError(
            f"The config differs from the one this run was started with ({path}), whose "
            f"checkpoints go up to step {resume_step}: {_describe(mixing)}. Continuing would "
            "mix two experiments. To continue this run with the new config anyway, pass "
            "--config_mismatch=resume (train_and_evaluate(..., config_mismatch='resume')); "
            "to start a separate run, use a new --workdir. (Only "
            f"{', '.join(CONTINUATION_FIELDS)} may change without asking.)"
        )
    logging.warning(
        "Resuming from step %d with a changed config (config_mismatch='resume'): %s. The "
        "change is recorded in %s.",
        resume_step,
        _describe(mixing),
        CHANGES_FILE,
    )


def _warn_if_learning_rate_jumps(saved: dict, config, resume_step: int) -> None:
    """Logs when the new config's schedule gives another rate at the resume step (a cosine
    schedule stretched by a larger num_steps)."""
    try:
        before = build_schedule(
            ml_collections.ConfigDict(saved["optimizer"]), int(saved["train"]["num_steps"])
        )(resume_step)
    except (KeyError, TypeError, ValueError, AttributeError):
        return  # The saved config predates a field; nothing to compare.
    after = build_schedule(config.optimizer, int(config.train.num_steps))(resume_step)
    if float(before) != float(after):
        logging.warning(
            "The learning rate at step %d changes from %.4g to %.4g with the new config "
            "(schedule %r over train.num_steps=%d).",
            resume_step,
            float(before),
            float(after),
            schedule_name(config.optimizer),
            int(config.train.num_steps),
        )


def _record_changes(workdir: str, changes: dict, resume_step: int) -> None:
    record = {
        "step": resume_step,
        "time": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "changed": {name: {"old": old, "new": new} for name, (old, new) in changes.items()},
    }
    with open(os.path.join(workdir, CHANGES_FILE), "a") as f:
        f.write(json.dumps(record) + "\n")
