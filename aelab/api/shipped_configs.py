"""The experiment configs that ship with aelab, by name, and overrides by keyword.

    config = aelab.load_config("quickstart:smoke")
    config = aelab.load_config("mnist_dense:vae", train__num_steps=5_000)
    config = aelab.load_config("my_configs/run.py:smoke", **{"optimizer.learning_rate": 3e-4})

A name is a config file under the package's `configs/` folder (the repository's
`configs/`, shipped as package data) without `.py` (`iwae_table1/mlp_1layer`); a path to
any `.py` file works as well. What follows a colon is the config's argument (its
variant), as on the command line (`--config=configs/quickstart.py:smoke`).
"""

from __future__ import annotations

import difflib
import importlib.resources
import os
from pathlib import Path
from typing import Any

import ml_collections

from aelab.config import ConfigError, load_config_file

# Folders of configs/ that hold other kinds of files (sweep definitions, not configs).
_NOT_CONFIGS = ("sweeps",)


def shipped_configs_dir() -> Path:
    """The folder of the shipped configs (inside the installed package)."""
    return Path(str(importlib.resources.files("aelab") / "configs"))


def list_configs() -> list[str]:
    """Names of the shipped configs, e.g. ["ecg5000_anomaly", ..., "quickstart"]."""
    root = shipped_configs_dir()
    if not root.is_dir():
        return []
    names = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if relative.parts[0] in _NOT_CONFIGS or path.name.startswith("_"):
            continue
        names.append(relative.with_suffix("").as_posix())
    return names


def resolve_config_path(name: str) -> str:
    """The file of a shipped config name, or `name` itself when it is a path.

    Raises:
      ConfigError: neither a file nor a shipped name (the message lists the names).
    """
    if name.endswith(".py") or (os.sep in name and os.path.exists(name)):
        return name
    path = shipped_configs_dir() / f"{name}.py"
    if path.is_file():
        return str(path)
    names = list_configs()
    close = difflib.get_close_matches(name, names, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ConfigError(
        f"No shipped config named {name!r}.{hint} Give one of {', '.join(names)}, or the "
        "path of a config file (ending in .py)."
    )


def apply_overrides(config: ml_collections.ConfigDict, overrides: dict[str, Any]) -> None:
    """Sets each `{"section.field": value}` (or `section__field`) in `config`, in place.

    Raises:
      ConfigError: a field the config does not have (with the closest one), or a value
        of the wrong type.
    """
    for key, value in overrides.items():
        dotted = key.replace("__", ".")
        path = dotted.split(".")
        section = config
        for depth, part in enumerate(path):
            is_last = depth == len(path) - 1
            if not isinstance(section, ml_collections.ConfigDict) or part not in section:
                is_section = isinstance(section, ml_collections.ConfigDict)
                known = list(section.keys()) if is_section else []
                close = difflib.get_close_matches(part, known, n=1)
                hint = f"; did you mean {'.'.join([*path[:depth], close[0]])!r}" if close else ""
                raise ConfigError(
                    f"Override {dotted}={value!r}: the config has no field "
                    f"{'.'.join(path[: depth + 1])!r}{hint} (docs/options.md lists every field)."
                )
            if is_last:
                try:
                    section[part] = value
                except (TypeError, ValueError) as e:
                    raise ConfigError(
                        f"Override {dotted}={value!r} is not valid: {str(e).splitlines()[0]}"
                    ) from None
            else:
                section = section[part]


def load_config(name: str, **overrides: Any) -> ml_collections.ConfigDict:
    """A shipped config by name (or a config file by path), with overrides.

    Args:
      name: "quickstart", "quickstart:smoke", "mnist_dense:vae,smoke",
        "iwae_table1/mlp_1layer", or "path/to/config.py[:arg]".
      **overrides: fields to change, "section__field=value" (or a dict with dotted keys
        through `**{"train.num_steps": 100}`).

    Returns:
      The config (`get_config(arg)` of the file) with the overrides applied; it is
      validated when training starts.

    Raises:
      ConfigError: an unknown name, a broken file, an unknown field or a bad value.
    """
    spec, _, arg = name.partition(":")
    config = load_config_file(resolve_config_path(spec), arg or None)
    apply_overrides(config, overrides)
    return config
