"""The model registry and the `config.model` section.

A registered builder has the signature
``builder(options, input_shape, output_shape, rngs) -> nnx.Module``, where `options` is
the model's declared options (a subclass of `ModelOptions`) read from `config.model`.
Each model also registers a tiny configuration and input shape, so the test suite can
build, train and check every registered model without knowing it by name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import ml_collections
from flax import nnx

from aelab.core.options import Options, option, options_class
from aelab.core.registry import Registry
from aelab.core.schema import Section, Selector
from aelab.models.ensemble import Ensemble


@options_class
class ModelOptions(Options):
    """What every model has: the size of its code."""

    latent_dim: int = option(
        16, "code size: values per example (a VAE's posterior dimension)", minimum=1
    )
    ensemble_members: int = option(
        1,
        "independently initialised copies trained side by side, a deep ensemble "
        "(aelab.models.ensemble); 1: the model alone",
        minimum=1,
    )


@dataclasses.dataclass(frozen=True)
class TinySetup:
    """The smallest sensible `config.model` fields and input shape of one example, and
    the `config.objective` fields (with "name") the tests train it with."""

    fields: dict
    input_shape: tuple[int, ...]
    objective: dict = dataclasses.field(default_factory=lambda: {"name": "reconstruction"})


MODELS = Registry("model")
_TINY_SETUPS: dict[str, TinySetup] = {}

MODEL_SELECTOR = Selector(
    "name",
    MODELS,
    choice="model",
    default="dense_vae",
    doc="the model (aelab.models.list_models())",
)
MODEL_SECTION = Section(
    "model", doc="the network: encoder, code and decoder", selectors=(MODEL_SELECTOR,)
)


def register_model(
    name: str,
    *,
    options: type[ModelOptions] = ModelOptions,
    tiny_fields: dict,
    tiny_input_shape: tuple[int, ...] = (8, 8, 1),
    objective: str | dict = "reconstruction",
) -> Callable:
    """Decorator registering a model builder under `name`.

    Args:
      name: the model's name in configs (`config.model.name`).
      options: its options class (a `ModelOptions` subclass declaring every field of
        `config.model` the model reads).
      tiny_fields: `config.model` fields for a tiny instance, used by the tests.
      tiny_input_shape: an input shape the tiny instance accepts.
      objective: the objective the tests train it with: a name (e.g. "elbo" for a VAE)
        or `config.objective` fields with a "name" (e.g. {"name": "elbo", "beta": 0.1}).
    """
    objective = {"name": objective} if isinstance(objective, str) else dict(objective)
    if "name" not in objective:
        raise ValueError(f"The tiny objective of model {name!r} needs a 'name' field.")

    def decorator(builder):
        MODELS.register(name, options=options)(builder)
        _TINY_SETUPS[name] = TinySetup(dict(tiny_fields), tuple(tiny_input_shape), objective)
        return builder

    return decorator


def model_options(config) -> ModelOptions:
    """The typed options of the model named `config.name` (a `config.model` section)."""
    return MODELS.options(MODEL_SELECTOR.value(config)).from_section(config, path="model")


def build_model(
    config,
    input_shape: Sequence[int],
    output_shape: Sequence[int] | None = None,
    *,
    rngs: nnx.Rngs,
) -> nnx.Module:
    """Builds the model named `config.name`.

    Args:
      config: the `config.model` section (name plus the model's options).
      input_shape: shape of one example, e.g. (28, 28, 1).
      output_shape: shape of the decoder output for one example; defaults to
        `input_shape` (one distribution parameter per data dimension).
      rngs: initialisation randomness.

    Raises:
      UnknownNameError: an unknown model name (the message lists the valid ones).
      ConfigError: an option of the model is missing or not valid.
    """
    builder = MODELS.get(MODEL_SELECTOR.value(config))
    output_shape = tuple(input_shape) if output_shape is None else tuple(output_shape)
    options = model_options(config)

    def make(member_rngs: nnx.Rngs) -> nnx.Module:
        return builder(options, tuple(input_shape), output_shape, member_rngs)

    if options.ensemble_members == 1:
        return make(rngs)
    return Ensemble(make, options.ensemble_members, rngs=rngs)


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
