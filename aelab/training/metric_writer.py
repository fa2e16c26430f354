"""One logging path: metrics.jsonl, TensorBoard scalars and images, from process 0."""

from __future__ import annotations

import json
import math
import os

import numpy as np


class MetricWriter:
    """Writes each logged step to `workdir/metrics.jsonl` and TensorBoard.

    Each line of metrics.jsonl is one JSON object: {"step": int, name: value, ...}, with
    names like "train/loss" or "eval/elbo". Only the chief process writes; elsewhere
    every method is a no-op.

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
        from tensorboardX import SummaryWriter

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
            self._tb.add_scalar(name, value, int(step))
        self._jsonl.write(json.dumps(record) + "\n")
        self._jsonl.flush()

    def write_image(self, step: int, name: str, picture: np.ndarray) -> None:
        """Adds a uint8 [h, w, c] picture to TensorBoard."""
        if self.is_chief:
            self._tb.add_image(name, picture, int(step), dataformats="HWC")

    def flush(self) -> None:
        if self.is_chief:
            self._jsonl.flush()
            self._tb.flush()

    def close(self) -> None:
        if self.is_chief:
            self._jsonl.close()
            self._tb.close()


def _drop_records_after(path: str, step: int) -> None:
    with open(path) as f:
        lines = [line for line in f if line.strip()]
    kept = [line for line in lines if json.loads(line)["step"] <= step]
    if len(kept) == len(lines):
        return
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.writelines(kept)
    os.replace(tmp, path)


def read_metrics(workdir: str) -> list[dict]:
    """All records of `workdir/metrics.jsonl`, in the order written."""
    path = os.path.join(workdir, "metrics.jsonl")
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]
