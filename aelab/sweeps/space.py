"""Search spaces: one dimension per config field, written in Python (no string DSL).

A search space maps dotted config fields to dimensions:

    space = {
        "optimizer.learning_rate": Float(1e-4, 1e-2, log=True),
        "model.latent_dim": Int(4, 16, step=4),
        "model.hidden_dims": Choice([(64,), (128, 64)]),
    }

Each dimension draws its value through an Optuna trial (so every sampler works with it)
and, when it is discrete, lists its values for grid sweeps.
"""

from __future__ import annotations

import abc
import dataclasses
import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import optuna

# Values Optuna stores natively in a categorical distribution.
_PLAIN_TYPES = (type(None), bool, int, float, str)


class Dimension(abc.ABC):
    """One searched config field."""

    @abc.abstractmethod
    def suggest(self, trial: optuna.Trial, name: str) -> Any:
        """Draws this dimension's value for `trial`; `name` is the dotted config field."""

    @abc.abstractmethod
    def grid_values(self) -> list[Any] | None:
        """Every value, for a grid sweep; None when the dimension is continuous."""

    @abc.abstractmethod
    def describe(self) -> dict:
        """A JSON-able description (stored with the study, read by reports)."""

    def to_storage(self, value: Any) -> Any:
        """The value as Optuna stores it (equal to `value` except for tuple choices)."""
        return value

    @property
    def is_log(self) -> bool:
        return False


@dataclasses.dataclass(frozen=True)
class Float(Dimension):
    """A float in [low, high]; `log=True` samples log-uniformly; `step` makes it discrete."""

    low: float
    high: float
    log: bool = False
    step: float | None = None

    def __post_init__(self):
        if not self.low < self.high:
            raise ValueError(f"Float({self.low}, {self.high}): low must be below high.")
        if self.log and self.low <= 0:
            raise ValueError(f"Float({self.low}, {self.high}, log=True): low must be positive.")
        if self.log and self.step is not None:
            raise ValueError("Float(..., log=True) cannot also have a step; choose one.")

    def suggest(self, trial: optuna.Trial, name: str) -> float:
        return trial.suggest_float(name, self.low, self.high, log=self.log, step=self.step)

    def grid_values(self) -> list[float] | None:
        if self.step is None:
            return None
        count = math.floor((self.high - self.low) / self.step + 1e-9) + 1
        return [self.low + i * self.step for i in range(count)]

    def describe(self) -> dict:
        return {"kind": "float", "low": self.low, "high": self.high, "log": self.log}

    @property
    def is_log(self) -> bool:
        return self.log


@dataclasses.dataclass(frozen=True)
class Int(Dimension):
    """An integer in [low, high] (both included) with an optional `step` or log scale."""

    low: int
    high: int
    step: int = 1
    log: bool = False

    def __post_init__(self):
        if not self.low <= self.high:
            raise ValueError(f"Int({self.low}, {self.high}): low must not exceed high.")
        if self.log and (self.low <= 0 or self.step != 1):
            raise ValueError("Int(..., log=True) needs low > 0 and step 1.")

    def suggest(self, trial: optuna.Trial, name: str) -> int:
        return trial.suggest_int(name, self.low, self.high, step=self.step, log=self.log)

    def grid_values(self) -> list[int]:
        return list(range(self.low, self.high + 1, self.step))

    def describe(self) -> dict:
        return {"kind": "int", "low": self.low, "high": self.high, "log": self.log}

    @property
    def is_log(self) -> bool:
        return self.log


@dataclasses.dataclass(frozen=True)
class Choice(Dimension):
    """One of `values`: numbers, strings, booleans, None, or tuples (e.g. layer sizes).

    Tuples are stored in Optuna by their `repr` and turned back into tuples here.
    """

    values: Sequence[Any]

    def __post_init__(self):
        values = tuple(self.values)
        if not values:
            raise ValueError("Choice([]) has nothing to choose from.")
        labels = [self._label(v) for v in values]
        if len(set(labels)) != len(labels):
            raise ValueError(f"Choice({list(values)}) lists a value twice.")
        object.__setattr__(self, "values", values)

    @staticmethod
    def _label(value: Any) -> Any:
        if isinstance(value, _PLAIN_TYPES):
            return value
        if isinstance(value, tuple | list):
            return repr(tuple(value))
        raise ValueError(
            f"Choice value {value!r} has type {type(value).__name__}; use numbers, strings, "
            "booleans, None or tuples of them."
        )

    def suggest(self, trial: optuna.Trial, name: str) -> Any:
        labels = [self._label(v) for v in self.values]
        label = trial.suggest_categorical(name, labels)
        return self.values[labels.index(label)]

    def grid_values(self) -> list[Any]:
        return list(self.values)

    def to_storage(self, value: Any) -> Any:
        return self._label(value)

    def describe(self) -> dict:
        return {"kind": "choice", "values": [self._label(v) for v in self.values]}


def grid_points(space: Mapping[str, Dimension]) -> list[dict[str, Any]]:
    """Every combination of the space's values (the first field varies slowest).

    Raises ValueError naming a continuous dimension, which has no grid.
    """
    values = {}
    for name, dimension in space.items():
        grid = dimension.grid_values()
        if grid is None:
            raise ValueError(
                f"Field {name!r} is continuous ({dimension}); a grid sweep needs Choice, Int "
                "or Float(..., step=...) dimensions, or use sampler 'random' or 'tpe'."
            )
        values[name] = grid
    return [dict(zip(values, combo, strict=True)) for combo in itertools.product(*values.values())]
