"""What a population may vary, and what it cannot honour.

P members share one program (a vmapped step): only values that enter the computation as
numbers may differ (`VMAPPABLE_FIELDS`). Config fields the population path cannot
honour are refused with a `ConfigError` before anything runs, never ignored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections

from aelab.core.errors import ConfigError
from aelab.evaluation.periodic import scheduled_evals
from aelab.objectives import OBJECTIVES
from aelab.objectives.adversarial import AdversarialObjective
from aelab.objectives.registry import OBJECTIVE_SELECTOR
from aelab.training.early_stopping import EarlyStoppingOptions
from aelab.training.schedules import schedule_name
from aelab.training.seeds import data_seed
from aelab.training.warm_start import WarmStartOptions

VMAPPABLE_FIELDS = {
    "seed": "parameter initialisation and training noise",
    "optimizer.learning_rate": "the peak learning rate, through any schedule",
    "optimizer.weight_decay": "adamw's decoupled weight decay",
    "objective.beta": "the ELBO's KL weight",
    "model.dropout_rate": "dense models' dropout rate (every member's rate > 0)",
}

# Fields that are numbers inside the jitted step (the seed only matters at init).
TRACED_SECTIONS = ("optimizer", "objective")


def vmappable_problems(fields: Sequence[str], config: ml_collections.ConfigDict) -> list[str]:
    """One line per field a population cannot vary for `config`."""
    problems = []
    bad = [f for f in fields if f not in VMAPPABLE_FIELDS]
    if bad:
        problems.append(
            f"Population sweeps can only vary {', '.join(VMAPPABLE_FIELDS)}; not "
            f"{', '.join(bad)} (they change shapes or the program). Use a normal sweep "
            "(no population_size) for those."
        )
    if "optimizer.weight_decay" in fields and config.optimizer.name != "adamw":
        problems.append(
            f"optimizer.weight_decay has no effect with optimizer {config.optimizer.name!r}; "
            "set config.optimizer.name = 'adamw' to sweep it."
        )
    if "optimizer.learning_rate" in fields and schedule_name(config.optimizer) == "piecewise":
        problems.append(
            "The 'piecewise' schedule lists its rates in optimizer.learning_rates; sweep "
            "optimizer.learning_rate with another schedule, or run a normal sweep."
        )
    if "objective.beta" in fields and config.objective.name != "elbo":
        problems.append(
            f"objective.beta has no effect with objective {config.objective.name!r}; sweep "
            "it with the 'elbo' objective."
        )
    return problems


def unsupported_problems(config: ml_collections.ConfigDict) -> list[str]:
    """Config fields the population loop cannot honour, one line each."""
    problems = []
    patience = EarlyStoppingOptions.from_section(config.train, path="train")
    if patience.early_stopping_patience:
        problems.append(
            f"config.train.early_stopping_patience={patience.early_stopping_patience}: "
            "population members train in one step and cannot stop one at a time; set it to "
            "0, or run a normal sweep."
        )
    objective = OBJECTIVE_SELECTOR.value(config.objective)
    if objective in OBJECTIVES and issubclass(OBJECTIVES.get(objective), AdversarialObjective):
        problems.append(
            f"config.objective.name={objective!r} trains a discriminator with its own "
            "optimizer, which the population step does not vmap; run a normal sweep (no "
            "population_size)."
        )
    init_from = WarmStartOptions.from_section(config.train, path="train").init_from
    if init_from is not None:
        problems.append(
            f"config.train.init_from={init_from!r}: population members start from their own "
            "random weights; set it to None, or run a normal sweep."
        )
    for name, every in scheduled_evals(config).items():
        problems.append(
            f"config.evals.{name}.every={every}: a population does not run evaluators during "
            "training; set every=0 (evaluate members afterwards) or run a normal sweep."
        )
    return problems


def check_vmappable(fields: Sequence[str], config: ml_collections.ConfigDict) -> None:
    """Raises a `ConfigError` naming any field a population cannot vary for `config`."""
    problems = vmappable_problems(fields, config)
    if problems:
        raise ConfigError(problems)


def member_config(config: ml_collections.ConfigDict, values: Mapping[str, Any]):
    """The equivalent sequential run's config: `config` with one member's values and the
    population's shared data seed."""
    member = config.copy_and_resolve_references()
    member.data.seed = data_seed(config)
    for dotted, value in values.items():
        *parents, leaf = dotted.split(".")
        node = member
        for part in parents:
            node = node[part]
        node[leaf] = value
    return member


def population_hparams(config, members) -> dict[str, jax.Array]:
    """{dotted field: [P] values} of the fields traced inside the step."""
    fields = sorted({f for values in members for f in values if f.split(".")[0] in TRACED_SECTIONS})
    configs = [member_config(config, values) for values in members]
    return {
        field: jnp.asarray([c[field.split(".")[0]][field.split(".")[1]] for c in configs])
        for field in fields
    }


def section_values(hparams: Mapping[str, jax.Array], section: str) -> dict[str, jax.Array]:
    """The traced values of one section: {field: value} of {"section.field": value}."""
    prefix = section + "."
    return {k[len(prefix) :]: v for k, v in hparams.items() if k.startswith(prefix)}
