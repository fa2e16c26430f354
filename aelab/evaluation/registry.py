"""What an evaluator is, and the registry that builds them by name from `config.evals`.

An evaluator is a frozen dataclass whose fields are its options (with defaults) and
whose `__call__(context)` measures a trained model and returns a flat dict of metrics
({name: float}); it may write plots through `context.plot_path(...)`. In a config:

    config.evals.likelihood = dict(num_samples=5000)
    config.evals.reconstruction = dict(every=10_000)

Every entry may also carry `every`: run it every that many training steps inside the
training loop as well (0, the default: only when `experiments/evaluate.py` runs).
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aelab.registry import Registry

if TYPE_CHECKING:
    from aelab.evaluation.context import EvalContext

EVALUATORS: Registry[type[Evaluator]] = Registry("evaluator")

# Options every `config.evals` entry may have that belong to the caller, not the evaluator.
SCHEDULING_OPTIONS = ("every",)


class Evaluator(abc.ABC):
    """Base class of evaluators (subclasses are frozen dataclasses of options)."""

    @abc.abstractmethod
    def __call__(self, context: EvalContext) -> dict[str, float]:
        """Measures `context`'s model; returns {metric name: value}."""


def register_evaluator(name: str):
    """Class decorator registering an evaluator under `name` (its `config.evals` key)."""

    def decorator(cls):
        EVALUATORS.register(name)(cls)
        return cls

    return decorator


def plain_value(value: Any) -> Any:
    """ConfigDict / list values from a config as hashable Python values (dicts stay
    dicts, lists become tuples)."""
    if hasattr(value, "to_dict"):
        value = value.to_dict()
    if isinstance(value, Mapping):
        return {k: plain_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return tuple(plain_value(v) for v in value)
    return value


def build_evaluator(name: str, options: Mapping | None = None) -> Evaluator:
    """The evaluator `name` with `options` (its `config.evals` entry).

    Raises an error listing the valid names for an unknown evaluator, and the valid
    options for an unknown option.
    """
    cls = EVALUATORS.get(name)
    options = dict(plain_value(options or {}))
    fields = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(options) - set(fields) - set(SCHEDULING_OPTIONS))
    if unknown:
        raise ValueError(
            f"Unknown option(s) {', '.join(unknown)} for evaluator {name!r} in config.evals; "
            f"its options: {', '.join(fields + list(SCHEDULING_OPTIONS))}."
        )
    return cls(**{k: v for k, v in options.items() if k not in SCHEDULING_OPTIONS})


def list_evaluators() -> list[str]:
    """Names of all registered evaluators, sorted."""
    return EVALUATORS.names()
