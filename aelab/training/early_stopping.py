"""Early stopping on an evaluation metric."""

from __future__ import annotations

import dataclasses
import math

from aelab.core.options import Options, option, options_class

MODES = ("min", "max")


@options_class
class EarlyStoppingOptions(Options):
    """`config.train` options of early stopping (on `best_metric`)."""

    early_stopping_patience: int = option(
        0, "evaluations without improvement before stopping (0: never stop early)", minimum=0
    )
    early_stopping_min_delta: float = option(
        0.0, "the least change that counts as an improvement", minimum=0.0
    )


@dataclasses.dataclass
class EarlyStopping:
    """Stops when `metric` has not improved by `min_delta` for `patience` evaluations.

    patience <= 0 disables stopping (the best value is still tracked). The state is a
    small dict (`state_dict` / `from_state_dict`) saved in checkpoints, so a resumed run
    keeps counting where it stopped.
    """

    metric: str
    mode: str = "min"
    patience: int = 0
    min_delta: float = 0.0
    best: float | None = None
    best_step: int | None = None
    evals_without_improvement: int = 0

    def _improved(self, value: float) -> bool:
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def update(self, step: int, metrics: dict[str, float]) -> bool:
        """Records an evaluation; returns True when training should stop."""
        if self.metric not in metrics:
            raise ValueError(
                f"The early-stopping / best-checkpoint metric {self.metric!r} is not among "
                f"the evaluation metrics: {', '.join(sorted(metrics))}. "
                "Set config.train.best_metric to one of them."
            )
        value = float(metrics[self.metric])
        if math.isfinite(value) and self._improved(value):
            self.best, self.best_step = value, step
            self.evals_without_improvement = 0
        else:
            self.evals_without_improvement += 1
        return 0 < self.patience <= self.evals_without_improvement

    def state_dict(self) -> dict:
        return {
            "best": self.best,
            "best_step": self.best_step,
            "evals_without_improvement": self.evals_without_improvement,
        }

    def load_state_dict(self, state: dict) -> None:
        self.best = state["best"]
        self.best_step = state["best_step"]
        self.evals_without_improvement = state["evals_without_improvement"]
