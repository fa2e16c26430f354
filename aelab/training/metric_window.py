"""Means of the per-step train metrics between two log lines."""

from __future__ import annotations

import numpy as np


class MetricWindow:
    """Sums per-step train metrics between two log lines (float64, on the host).

    Its state goes into checkpoints, so a run resumed mid-window logs the same means.
    """

    def __init__(self, state: dict | None = None):
        state = state or {"sums": {}, "count": 0}
        self.sums: dict[str, float] = dict(state["sums"])
        self.count: int = int(state["count"])

    def add(self, per_step: dict[str, np.ndarray]) -> None:
        """Adds k steps' metrics ({name: [k]})."""
        if not per_step:
            return
        for name, values in per_step.items():
            self.sums[name] = self.sums.get(name, 0.0) + float(np.sum(values, dtype=np.float64))
        self.count += len(next(iter(per_step.values())))

    def means(self) -> dict[str, float]:
        return {name: total / self.count for name, total in self.sums.items()}

    def reset(self) -> None:
        self.sums, self.count = {}, 0

    def state_dict(self) -> dict:
        return {"sums": dict(self.sums), "count": self.count}
