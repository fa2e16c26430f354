"""One logging path: metrics.jsonl, TensorBoard scalars and images, from process 0."""

from __future__ import annotations

import json
import math
import os

import numpy as np

from aelab.core.atomic_files import write_text_atomically


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
