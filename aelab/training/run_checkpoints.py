"""A finished (or running) run's checkpoints, read from outside the run: which steps
exist, which one "best" names, and one step's weights.

A warm start opens them read-only: reading another run's checkpoints then never
deletes its temporary directories (that run may still be saving into them).
"""

from __future__ import annotations

import os

import numpy as np
from absl import logging

from aelab.training.checkpointing import Checkpointer, CheckpointOptions

STEP_CHOICES = ("best", "latest")


def open_run_checkpoints(workdir: str, config, *, read_only: bool = False) -> Checkpointer:
    """The checkpoints of the run in `workdir` trained with `config`; `read_only`:
    create, save, delete and clean up nothing (orbax logs a warning that it is).

    Raises:
      FileNotFoundError: the run has not saved a checkpoint yet.
    """
    directory = os.path.join(workdir, "checkpoints")
    if not os.path.isdir(directory) or not os.listdir(directory):
        raise FileNotFoundError(
            f"No checkpoints in {directory}: the run has not saved one yet (checkpoints are "
            "written every config.train.checkpoint_every steps and at the end)."
        )
    options = CheckpointOptions.from_section(config.train, path="train")
    return Checkpointer(
        directory,
        keep=options.keep_checkpoints,
        best_metric=options.best_metric,
        best_mode=options.best_mode,
        async_save=False,
        read_only=read_only,
    )


def resolve_step(checkpointer: Checkpointer, step: int | str) -> int:
    """A checkpoint step from "best" (falls back to the latest), "latest" or a number."""
    steps = sorted(checkpointer.all_steps())
    if not steps:
        raise FileNotFoundError(f"No finished checkpoint in {checkpointer.directory}.")
    if step == "latest":
        return steps[-1]
    if step == "best":
        try:
            best = checkpointer.best_step()
        except (KeyError, TypeError) as e:
            logging.warning("No best checkpoint could be ranked (%s); using the latest.", e)
            best = None
        return steps[-1] if best is None else int(best)
    try:
        number = int(step)
    except (TypeError, ValueError):
        raise ValueError(
            f"step={step!r} is not valid: give a checkpoint step number or one of "
            f"{', '.join(STEP_CHOICES)}."
        ) from None
    if number not in steps:
        raise ValueError(
            f"No checkpoint at step {number} in {checkpointer.directory}; saved steps: "
            f"{', '.join(map(str, steps))}."
        )
    return number


def read_checkpoint_weights(
    workdir: str, config, step: int | str = "best"
) -> tuple[dict[str, np.ndarray], int]:
    """(the weights {"params/<path>": array, "model_state/<path>": array}, their step)
    of one checkpoint of the run in `workdir`, without its optimizer state."""
    checkpointer = open_run_checkpoints(workdir, config, read_only=True)
    try:
        chosen = resolve_step(checkpointer, step)
        return checkpointer.restore_weights(chosen), chosen
    finally:
        checkpointer.close()
