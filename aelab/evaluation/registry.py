"""What an evaluator is, the registry that builds them by name, and `config.evals`.

An evaluator is a frozen dataclass of declared options (`aelab.core.options`) whose
`__call__(context)` measures a trained model and returns a flat dict of metrics
({name: float}); it may write plots through `context.plot_path(...)`. In a config:

    config.evals.likelihood = dict(num_samples=5000)
    config.evals.reconstruction = dict(every=10_000)

Every entry may also carry `every` (`SchedulingOptions`): run it every that many
training steps inside the training loop as well (0, the default: only when
`experiments/evaluate.py` runs).
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any

from aelab.core.options import Options, options_class
from aelab.core.registry import Registry
from aelab.core.schema import KeyedSection
from aelab.evaluation.context import EvalContext
from aelab.training.single_run import EvaluationScheduleOptions

EVALUATORS: Registry[type[Evaluator]] = Registry("evaluator")


# What every `config.evals` entry may carry besides its evaluator's options (`every`):
# declared by the training loop, which schedules them.
SchedulingOptions = EvaluationScheduleOptions
SCHEDULING_OPTIONS = SchedulingOptions.option_names()


@options_class
class Evaluator(Options, abc.ABC):
    """Base class of evaluators: their fields are their options."""

    @abc.abstractmethod
    def __call__(self, context: EvalContext) -> dict[str, float]:
        """Measures `context`'s model; returns {metric name: value}."""


def register_evaluator(name: str):
    """Class decorator registering an evaluator (its own options class) under `name`,
    its `config.evals` key."""

    def decorator(cls):
        EVALUATORS.register(name, options=cls)(cls)
        cls.component = f"evaluator {name!r}"
        return cls

    return decorator


EVALS_SECTION = KeyedSection(
    "evals",
    doc="evaluators: {name: options}, run by experiments/evaluate.py (and during training "
    "with every > 0)",
    registry=EVALUATORS,
    extra=SchedulingOptions,
    default_entries={name: {"every": 0} for name in ("reconstruction", "generation", "cost")},
)


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
    """The evaluator `name` with `options` (its `config.evals` entry; `every` is the
    caller's and ignored here).

    Raises:
      UnknownNameError: an unknown evaluator (the message lists the valid names).
      ConfigError: an unknown option (the message lists the valid ones) or a bad value.
    """
    cls = EVALUATORS.get(name)
    options = {
        k: v for k, v in dict(plain_value(options or {})).items() if k not in SCHEDULING_OPTIONS
    }
    return cls.from_section(options, path=f"evals.{name}", strict=True)


def list_evaluators() -> list[str]:
    """Names of all registered evaluators, sorted."""
    return EVALUATORS.names()
