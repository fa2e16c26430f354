"""`aelab.train`: training from Python, with a progress bar in notebooks and the usual
log lines in scripts.

    config = aelab.load_config("quickstart")
    metrics = aelab.train(config, "runs/quickstart")
    model = aelab.load("runs/quickstart")

The same run as `python experiments/train.py --config=... --workdir=...` (evaluators
of `config.evals` that run during training included); a second call with the same
work directory resumes.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import ml_collections
from absl import logging

from aelab.api.shipped_configs import load_config
from aelab.evaluation import train_and_evaluate
from aelab.training import TrainCallback

PROGRESS_MODES = ("auto", "bar", "log", "none")


def is_interactive() -> bool:
    """Whether Python runs a notebook kernel or an interactive prompt."""
    if hasattr(sys, "ps1"):
        return True
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    return shell is not None


class ProgressBar(TrainCallback):
    """A `tqdm` bar over the training steps (a widget in notebooks that have ipywidgets,
    text otherwise), with the training loss and the last evaluation's loss beside it."""

    def __init__(self, num_steps: int):
        try:
            import ipywidgets  # noqa: F401  (tqdm's notebook widget needs it)
            from tqdm.auto import tqdm
        except ImportError:
            from tqdm import tqdm

        self._bar = tqdm(total=num_steps, unit="step", dynamic_ncols=True)
        self._shown: dict[str, str] = {}

    def _advance(self, step: int, values: dict[str, float], names: dict[str, str]) -> None:
        self._bar.update(step - self._bar.n)
        for key, label in names.items():
            if key in values:
                self._shown[label] = f"{values[key]:.4g}"
        self._bar.set_postfix(self._shown, refresh=True)

    def on_log(self, step: int, scalars: dict[str, float]) -> None:
        self._advance(step, scalars, {"train/loss": "loss"})

    def on_evaluation(self, step: int, metrics: dict[str, float]) -> None:
        self._advance(step, metrics, {"eval/loss": "eval_loss"})

    def close(self) -> None:
        self._bar.close()


@contextlib.contextmanager
def _absl_verbosity(level: int):
    # Outside absl's app.run, absl logs at WARNING: the step and evaluation lines a
    # script user expects would be dropped. The logger's own level is put back as it
    # was (often unset, inheriting the root's): restoring the effective level instead
    # would pin it, and hide INFO lines from handlers set up later (pytest's caplog).
    logger = logging.get_absl_logger()
    previous = logger.level
    logging.set_verbosity(level)
    try:
        yield
    finally:
        logger.setLevel(previous)


def _with_arrays(config: ml_collections.ConfigDict, data: Mapping[str, Any]):
    from aelab.data.arrays import register_arrays

    config = ml_collections.ConfigDict(config.to_dict())
    key = register_arrays(dict(data))
    config.data.name = "arrays"
    config.data.arrays = key
    return config


def train(
    config: ml_collections.ConfigDict | str,
    workdir: str,
    *,
    data: Mapping[str, Any] | None = None,
    callbacks: Sequence[TrainCallback] = (),
    progress: str = "auto",
    config_mismatch: str = "error",
) -> dict[str, float]:
    """Trains (or resumes) the run of `config` in `workdir`.

    Args:
      config: a config, or the name of a shipped config (see `aelab.load_config`).
      workdir: the work directory (checkpoints, logs, results).
      data: in-memory NumPy arrays to train on instead of `config.data`'s data set:
        {"train": [n, ...], "test": [m, ...]} and optionally "validation" and
        "<split>_labels" (`config.data.name` becomes "arrays"; the model and the rest
        of the config stay).
      callbacks: `aelab.training.TrainCallback`s (`on_log`, `on_evaluation`,
        `on_checkpoint`), e.g. for experiment trackers (docs/training.md).
      progress: "auto" (a progress bar in notebooks and interactive sessions, log lines
        in scripts), "bar", "log" or "none".
      config_mismatch: "error" (default) or "resume" when `workdir` holds a run of
        another config.

    Returns:
      The last evaluation's metrics, {"eval/<metric>": value, "evals/<name>/...": ...}.

    Raises:
      ConfigError, DataError, WorkdirLockedError, ConfigMismatchError,
      NonFiniteLossError, TrainingPreempted: as `python experiments/train.py` reports
      them (one line each).
    """
    if progress not in PROGRESS_MODES:
        raise ValueError(f"progress={progress!r} is not valid; choose one of {PROGRESS_MODES}.")
    if isinstance(config, str):
        config = load_config(config)
    if data is not None:
        config = _with_arrays(config, data)
    if progress == "auto":
        progress = "bar" if is_interactive() else "log"
    bar = ProgressBar(int(config.train.num_steps)) if progress == "bar" else None
    verbosity = logging.INFO if progress == "log" else logging.WARNING
    try:
        with _absl_verbosity(verbosity):
            return train_and_evaluate(
                config,
                workdir,
                callbacks=[*callbacks, *([bar] if bar else [])],
                config_mismatch=config_mismatch,
            )
    finally:
        if bar is not None:
            bar.close()
