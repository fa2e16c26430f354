"""Experiment configs: defaults, validation and loading, derived from the components'
declared options.

An experiment config is a Python file whose `get_config(arg)` starts from
`base_config(...)`, naming the components it uses, and changes what it needs:

    config = base_config(data="mnist", model="conv_vae", schedule="cosine")
    config.model.channels = (32, 64)

`base_config` fills every option of the chosen components with its declared default
(so any of them can be overridden on the command line), and `validate_config` checks
every field against the same declarations (docs/options.md lists them all).
"""

from __future__ import annotations

import importlib.util
import os
import sys

import ml_collections

from aelab.core.errors import ConfigError
from aelab.evaluation.config_schema import CONFIG_SCHEMA, validate_config

__all__ = [
    "CONFIG_SCHEMA",
    "ConfigError",
    "base_config",
    "call_file_function",
    "check_variant",
    "config_argument_problem",
    "load_config_file",
    "make_smoke",
    "parse_config_arg",
    "validate_config",
]


def base_config(**choices: str) -> ml_collections.ConfigDict:
    """A complete config: every shared field, and every option of the chosen components,
    at its declared default.

    Args:
      **choices: the components, by the selector that picks each: `data`, `model`,
        `objective`, `likelihood`, `optimizer`, `schedule`, `corruption` (e.g.
        `base_config(data="mnist", model="conv_ae", objective="reconstruction")`).
        Unnamed ones get their defaults (digits, dense_vae, elbo, bernoulli, adam,
        constant, none).
    """
    return CONFIG_SCHEMA.defaults(**choices)


def make_smoke(config: ml_collections.ConfigDict, num_steps: int = 10):
    """Shrinks `config` in place to a few-step run of the same experiment (the `smoke`
    variant every config offers): `num_steps` steps, logs, evaluation on at most 500
    examples and checkpoints at the end. Returns `config`."""
    config.train.num_steps = num_steps
    config.train.log_every = max(1, num_steps // 2)
    config.train.eval_every = num_steps
    config.train.checkpoint_every = num_steps
    config.train.steps_per_call = min(config.train.steps_per_call, config.train.log_every)
    config.train.eval_examples = 500
    return config


def call_file_function(path: str, function: str, arg: str | None = None, *, what: str):
    """`function(arg)` (or `function()` when arg is None) of the Python file at `path`: a
    config's `get_config`, a sweep's `get_sweep`.

    Raises:
      ConfigError: one line for a missing file, one that does not import (its error's
        first line), one without `function`, or a `function` that fails.
    """
    if not os.path.isfile(path):
        raise ConfigError(
            f"{what.capitalize()} file {path} does not exist: give the path of a Python file "
            f"with {function}(arg)."
        )
    name = "aelab_file_" + "".join(c if c.isalnum() else "_" for c in os.path.abspath(path))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as e:  # User code: any error, named in one line.
        raise ConfigError(
            f"{what.capitalize()} file {path} failed to load: {_first_line(e)}."
        ) from None
    sys.modules.setdefault(name, module)
    if not hasattr(module, function):
        raise ConfigError(f"{what.capitalize()} file {path} has no {function}(arg) function.")
    try:
        return getattr(module, function)(arg) if arg is not None else getattr(module, function)()
    except ConfigError:
        raise
    except Exception as e:
        raise ConfigError(
            f"{what.capitalize()} file {path}: {function}({arg!r}) failed: {_first_line(e)}."
        ) from None


def load_config_file(path: str, arg: str | None = None) -> ml_collections.ConfigDict:
    """`get_config(arg)` of the config file at `path` (`--config=path[:arg]`).

    Raises:
      ConfigError: a missing or broken file (see `call_file_function`), or one whose
        get_config does not return a ConfigDict.
    """
    config = call_file_function(path, "get_config", arg, what="config")
    if not isinstance(config, ml_collections.ConfigDict):
        raise ConfigError(
            f"Config file {path}: get_config returned {type(config).__name__}, not an "
            "ml_collections.ConfigDict (start it from aelab.config.base_config())."
        )
    return config


def config_argument_problem(argv: list[str], flag: str = "config") -> str | None:
    """The one-line problem of the `--config=FILE[:ARG]` argument in `argv` (a missing
    file, one that fails to import, or a `get_config` that fails), or None.

    Entry points call it before their flag parser loads the file, which would report
    such an error as chained tracebacks.
    """
    values = [a.split("=", 1)[1] for a in argv if a.startswith(f"--{flag}=")]
    if not values:
        return None
    path, _, arg = values[-1].partition(":")
    try:
        load_config_file(path, arg or None)
    except ConfigError as e:
        return str(e)
    return None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    first = text.splitlines()[0].rstrip(".") if text else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


def check_variant(arg: str | None, variants: tuple[str, ...] = ("smoke",)) -> str | None:
    """Validates a config's `get_config(arg)` argument: None/"" or one of `variants`."""
    if arg in (None, ""):
        return None
    if arg not in variants:
        raise ValueError(
            f"Unknown config variant {arg!r}; valid variants: {', '.join(variants)} "
            "(e.g. --config=configs/quickstart.py:smoke)."
        )
    return arg


def parse_config_arg(arg: str | None, defaults: dict[str, object]) -> dict[str, object]:
    """Parses a config argument "key=value,key=value" (each key optional) against
    `defaults`, converting each value to its default's type (int, float or str).

    Example: parse_config_arg("objective=iwae,k=50", {"objective": "vae", "k": 1,
    "budget": "full"}) -> {"objective": "iwae", "k": 50, "budget": "full"}.
    """
    values = dict(defaults)
    for item in filter(None, (part.strip() for part in (arg or "").split(","))):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or key not in defaults:
            raise ValueError(
                f"Config argument {item!r} is not valid: write key=value with keys "
                f"{', '.join(defaults)} (e.g. --config=configs/X.py:"
                f"{','.join(f'{k}={v}' for k, v in defaults.items())})."
            )
        kind = type(defaults[key])
        try:
            values[key] = kind(value.strip())
        except ValueError:
            raise ValueError(
                f"Config argument {key}={value!r} is not valid: expected a {kind.__name__}."
            ) from None
    return values
