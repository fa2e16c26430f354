"""The objective registry and the `config.objective` section.

An objective registers its class with its options (an `ObjectiveOptions` subclass):

    @register_objective("elbo", options=ElboOptions)
    class ElboObjective(Objective): ...

and is built from `config.objective` by `build_objective`: its likelihood from the
`likelihood` field (and that likelihood's options), then
`cls(likelihood, **options.as_dict())`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from aelab.core.errors import ConfigError
from aelab.core.registry import Registry
from aelab.core.schema import Section, Selector
from aelab.objectives.base import Objective, ObjectiveOptions
from aelab.objectives.likelihoods import LIKELIHOOD_SELECTOR, likelihood_from_section

OBJECTIVES: Registry[type[Objective]] = Registry("objective")
OBJECTIVE_SELECTOR = Selector(
    "name",
    OBJECTIVES,
    choice="objective",
    default="elbo",
    doc="the objective (aelab.objectives.list_objectives())",
)

OBJECTIVE_SECTION = Section(
    "objective",
    doc="what training minimises: a likelihood plus the objective's terms",
    selectors=(OBJECTIVE_SELECTOR, LIKELIHOOD_SELECTOR),
)


def register_objective(name: str, *, options: type[ObjectiveOptions]) -> Callable:
    """Class decorator registering an `Objective` subclass under `name` with its options."""

    def decorator(cls: type[Objective]) -> type[Objective]:
        OBJECTIVES.register(name, options=options)(cls)
        return cls

    return decorator


def objective_options(config) -> ObjectiveOptions:
    """The typed options of the objective named `config.name` (a `config.objective`)."""
    return OBJECTIVES.options(OBJECTIVE_SELECTOR.value(config)).from_section(
        config, path="objective"
    )


def build_objective(config, *, overrides: Mapping[str, Any] | None = None) -> Objective:
    """Builds the objective named `config.name` from the `config.objective` section.

    Args:
      config: the section (name, likelihood and the objective's options).
      overrides: option values that replace the parsed ones unchecked (a population
        sweep's traced hyperparameters, e.g. {"beta": traced array}).
    """
    options = objective_options(config)
    if overrides:
        options = dataclasses.replace(options, **overrides)
    name = OBJECTIVE_SELECTOR.value(config)
    cls = OBJECTIVES.get(name)
    likelihood = LIKELIHOOD_SELECTOR.value(config)
    if cls.likelihoods is not None and likelihood not in cls.likelihoods:
        raise ConfigError(
            f"config.objective.likelihood={likelihood!r} is not valid for objective "
            f"{name!r}: it works with {' or '.join(repr(n) for n in cls.likelihoods)}; set "
            f"config.objective.likelihood={cls.likelihoods[0]!r}."
        )
    return cls(likelihood_from_section(config), **options.as_dict())


def list_objectives() -> list[str]:
    """Names of all registered objectives, sorted."""
    return OBJECTIVES.names()
