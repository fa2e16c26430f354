"""The model registry.

A registered builder has the signature
``builder(config, input_shape, output_shape, rngs) -> nnx.Module``. Each model also
registers a tiny configuration and input shape, so the test suite can build, train and
check every registered model without knowing it by name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import ml_collections

from aelab.registry import Registry


@dataclasses.dataclass(frozen=True)
class TinySetup:
    """The smallest sensible `config.model` fields and input shape of one example, and
    the `config.objective` fields (with "name") the tests train it with."""

    fields: dict
    input_shape: tuple[int, ...]
    objective: dict = dataclasses.field(default_factory=lambda: {"name": "reconstruction"})


MODELS = Registry("model")
_TINY_SETUPS: dict[str, TinySetup] = {}


def register_model(
    name: str,
    *,
    tiny_fields: dict,
    tiny_input_shape: tuple[int, ...] = (8, 8, 1),
    objective: str | dict = "reconstruction",
) -> Callable:
    """Decorator registering a model builder under `name`.

    Args:
      name: the model's name in configs (`config.model.name`).
      tiny_fields: `config.model` fields for a tiny instance, used by the tests.
      tiny_input_shape: an input shape the tiny instance accepts.
      objective: the objective the tests train it with: a name (e.g. "elbo" for a VAE)
        or `config.objective` fields with a "name" (e.g. {"name": "elbo", "beta": 0.1}).
    """
    objective = {"name": objective} if isinstance(objective, str) else dict(objective)
    if "name" not in objective:
        raise ValueError(f"The tiny objective of model {name!r} needs a 'name' field.")

    def decorator(builder):
        MODELS.register(name)(builder)
        _TINY_SETUPS[name] = TinySetup(dict(tiny_fields), tuple(tiny_input_shape), objective)
        return builder

    return decorator


def tiny_setup(name: str) -> tuple[ml_collections.ConfigDict, tuple[int, ...], str]:
    """(config.model for a tiny `name`, an input shape, objective name) for tests."""
    MODELS.get(name)  # raises the listing error for unknown names
    setup = _TINY_SETUPS[name]
    config = ml_collections.ConfigDict({"name": name, **setup.fields})
    return config, setup.input_shape, setup.objective["name"]


def tiny_objective_config(name: str, **overrides) -> ml_collections.ConfigDict:
    """The `config.objective` the tests train a tiny `name` with (fields and overrides)."""
    MODELS.get(name)
    return ml_collections.ConfigDict({**_TINY_SETUPS[name].objective, **overrides})
