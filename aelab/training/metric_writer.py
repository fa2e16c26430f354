"""One logging path: metrics.jsonl, TensorBoard scalars, images and hyperparameters,
from process 0.

TensorBoard files need tensorboardX (the `tensorboard` extra,
`pip install 'aelab[tensorboard]'`); without it, everything else is still written and
a run says once how to get them.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
from absl import logging

from aelab.core.atomic_files import write_text_atomically

try:
    from tensorboardX import SummaryWriter
    from tensorboardX.summary import hparams as hparams_summaries
except ImportError:
    SummaryWriter = hparams_summaries = None

HPARAMS_RUN = "hparams"


def _tensorboard_available() -> bool:
    if SummaryWriter is None:
        logging.log_first_n(
            logging.WARNING,
            "tensorboardX is not installed: metrics go to metrics.jsonl only, without "
            "TensorBoard files; pip install 'aelab[tensorboard]' to get them.",
            1,
        )
    return SummaryWriter is not None


class MetricWriter:
    """Writes each logged step to `workdir/metrics.jsonl` and TensorBoard.

    Each line of metrics.jsonl is one JSON object: {"step": int, name: value, ...}, with
    names like "train/loss" or "eval/elbo". Only the chief process writes; elsewhere
    every method is a no-op. Without tensorboardX only metrics.jsonl is written.

    A run resumed from a checkpoint at `resume_step` first drops what an interrupted
    attempt logged after that step (in metrics.jsonl, and in TensorBoard through its
    purge step), so every step appears once.
    """

    def __init__(self, workdir: str, *, is_chief: bool = True, resume_step: int = 0):
        self.is_chief = is_chief
        self._jsonl = None
        self._tb = None
        if not is_chief:
            return
        os.makedirs(workdir, exist_ok=True)
        path = os.path.join(workdir, "metrics.jsonl")
        if os.path.exists(path):
            _drop_records_after(path, resume_step)
        self._jsonl = open(path, "a")
        if _tensorboard_available():
            self._tb = SummaryWriter(
                os.path.join(workdir, "tensorboard"),
                purge_step=resume_step + 1 if resume_step else None,
            )

    def write_scalars(self, step: int, scalars: dict[str, float]) -> None:
        if not self.is_chief:
            return
        record = {"step": int(step)}
        for name, value in scalars.items():
            value = float(value)
            record[name] = value if math.isfinite(value) else str(value)
            if self._tb is not None:
                self._tb.add_scalar(name, value, int(step))
        self._jsonl.write(json.dumps(record) + "\n")
        self._jsonl.flush()

    def write_image(self, step: int, name: str, picture: np.ndarray) -> None:
        """Adds a uint8 [h, w, c] picture to TensorBoard."""
        if self._tb is not None:
            self._tb.add_image(name, picture, int(step), dataformats="HWC")

    def flush(self) -> None:
        if self.is_chief:
            self._jsonl.flush()
        if self._tb is not None:
            self._tb.flush()

    def close(self) -> None:
        if self.is_chief:
            self._jsonl.close()
        if self._tb is not None:
            self._tb.close()


def write_hparams(
    workdir: str, hparams: Mapping[str, Any], metrics: Mapping[str, float]
) -> str | None:
    """Records a finished run's hyperparameters and final metrics for TensorBoard's
    HParams tab, in the run `workdir/tensorboard/hparams`; returns that directory (None
    without tensorboardX).

    TensorBoard pointed at a folder of such runs (a sweep's `trials/`) compares them:
    one row per run, a column per hyperparameter and metric. Values that are not a
    bool, number or string (a tuple of layer widths) are recorded as their repr.

    Args:
      hparams: {name: value}, e.g. {"optimizer.learning_rate": 1e-3}.
      metrics: {name: value}; names distinct from the run's logged scalars (e.g.
        "sweep/objective"), since TensorBoard reads them as the run's scalars.
    """
    if not _tensorboard_available():
        return None
    values = {
        name: value if isinstance(value, bool | int | float | str) else repr(value)
        for name, value in hparams.items()
    }
    metrics = {name: float(value) for name, value in metrics.items()}
    directory = os.path.join(workdir, "tensorboard", HPARAMS_RUN)
    # SummaryWriter.add_hparams would also leave an empty events file in the run's own
    # directory; this writes what it writes (the experiment, session start and end,
    # the metrics as scalars) into the hparams run alone.
    with SummaryWriter(directory) as writer:
        for summary in hparams_summaries(values, metrics):
            writer.file_writer.add_summary(summary)
        for name, value in metrics.items():
            writer.add_scalar(name, value)
    return directory


def _parse_records(path: str) -> list[tuple[str, dict]]:
    """(line, record) for each complete record of a metrics.jsonl file.

    A run killed while writing leaves a last line without its newline; that torn line
    is dropped. Any other unparsable line means the file is damaged: an error names it.
    """
    with open(path) as f:
        lines = [line for line in f if line.strip()]
    records = []
    for number, line in enumerate(lines, start=1):
        try:
            records.append((line, json.loads(line)))
        except ValueError:
            if number == len(lines) and not line.endswith("\n"):
                break  # The torn last write of a killed run.
            raise ValueError(
                f"{path}, line {number}: not a JSON record ({line[:80]!r}). The file is "
                "damaged; fix or delete that line."
            ) from None
    return records


def _drop_records_after(path: str, step: int) -> None:
    with open(path) as f:
        original = f.read()
    kept = [line for line, record in _parse_records(path) if record["step"] <= step]
    if "".join(kept) != original:
        write_text_atomically(path, "".join(kept))


def read_metrics(workdir: str) -> list[dict]:
    """All records of `workdir/metrics.jsonl`, in the order written (a torn last line,
    from a run killed mid-write or still writing, is left out)."""
    return [record for _, record in _parse_records(os.path.join(workdir, "metrics.jsonl"))]
