"""Exporting a trained run as a self-contained model directory, to share or publish.

    export("runs/quickstart", "exports/quickstart")        # the best checkpoint
    run = load_trained("exports/quickstart")                # aelab.evaluation.exported

The directory holds four files:

    config.json          the run's config
    data_info.json       the data set's `DatasetInfo` (loading never reads the data set)
    params.safetensors   parameters and model state, no optimizer state (`weight_files`)
    README.md            the model card (`model_card`)

It is written into a temporary sibling directory and renamed into place when complete,
so a failed export leaves no directory that looks like a model.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile

from aelab.core.atomic_files import write_text_atomically
from aelab.evaluation.loading import load_run
from aelab.evaluation.model_card import model_card
from aelab.evaluation.runner import RESULTS_FILE
from aelab.training.log_filter import quiet_library_info_logs
from aelab.training.metric_writer import read_metrics
from aelab.training.run_info import read_run_info
from aelab.training.saved_config import CONFIG_FILE
from aelab.training.saved_data_info import DATA_INFO_FILE, write_data_info
from aelab.training.weight_files import WEIGHTS_FILE, write_weights

MODEL_CARD_FILE = "README.md"
# What loading an export reads; the model card is for people.
LOADED_FILES = (CONFIG_FILE, DATA_INFO_FILE, WEIGHTS_FILE)
EXPORT_FILES = (*LOADED_FILES, MODEL_CARD_FILE)


def _read_json(path: str) -> dict:
    try:
        with open(path) as f:
            return json.load(f)
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _loop_metrics(workdir: str, step: int) -> dict:
    """The loop's evaluation metrics logged at `step` in metrics.jsonl."""
    if not os.path.exists(os.path.join(workdir, "metrics.jsonl")):
        return {}
    metrics = {}
    for record in read_metrics(workdir):
        if record.get("step") == step:
            metrics.update({k: v for k, v in record.items() if k.startswith("eval/")})
    return metrics


def _check_target(out: str, overwrite: bool) -> None:
    if os.path.exists(out) and not os.path.isdir(out):
        raise FileExistsError(f"{out} is a file; give a directory path to export into.")
    if os.path.isdir(out) and os.listdir(out) and not overwrite:
        raise FileExistsError(
            f"{out} is not empty; pass overwrite=True to replace it, or choose a new directory."
        )


def export(workdir: str, out: str, step: int | str = "best", *, overwrite: bool = False) -> str:
    """Writes one checkpoint of a trained run as a self-contained model directory.

    Args:
      workdir: the run's work directory.
      out: the directory to create (its name is the model card's title).
      step: "best" (the latest when none is ranked), "latest" or a checkpoint step.
      overwrite: replace `out` when it exists and is not empty.

    Returns:
      The absolute path of `out`.

    Raises:
      FileExistsError: `out` is a file, or a non-empty directory and not `overwrite`.
      FileNotFoundError / ValueError: `workdir` is not a trained run, or has no such step.
    """
    quiet_library_info_logs()
    workdir, out = os.path.abspath(workdir), os.path.abspath(out.rstrip("/"))
    _check_target(out, overwrite)
    run = load_run(workdir, step)
    parent = os.path.dirname(out)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(dir=parent, prefix=f".{os.path.basename(out)}.export-")
    try:
        write_text_atomically(
            os.path.join(staging, CONFIG_FILE),
            run.config.to_json_best_effort(indent=2, sort_keys=True),
        )
        write_data_info(staging, run.spec.info)
        write_weights(
            os.path.join(staging, WEIGHTS_FILE),
            run.params,
            run.model_state,
            step=run.step,
            train_seconds=run.train_seconds,
        )
        card = model_card(
            run,
            title=os.path.basename(out),
            run_info=read_run_info(workdir),
            results=_read_json(os.path.join(workdir, RESULTS_FILE)),
            loop_metrics=_loop_metrics(workdir, run.step),
        )
        write_text_atomically(os.path.join(staging, MODEL_CARD_FILE), card)
        os.chmod(staging, 0o755)  # mkdtemp's 0700 would hide it from collaborators.
        _replace_directory(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def _replace_directory(new: str, out: str) -> None:
    """Renames `new` to `out`; an existing `out` is moved aside first, then deleted."""
    if not os.path.exists(out):
        os.rename(new, out)
        return
    old = tempfile.mkdtemp(dir=os.path.dirname(out), prefix=f".{os.path.basename(out)}.old-")
    os.rename(out, os.path.join(old, "previous"))
    try:
        os.rename(new, out)
    except BaseException:
        os.rename(os.path.join(old, "previous"), out)
        raise
    finally:
        shutil.rmtree(old, ignore_errors=True)
