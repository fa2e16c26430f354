"""Warm start: a fresh run begins from another model's weights (`config.train.init_from`).

`init_from` names an exported model directory (`params.safetensors`, see
`aelab.evaluation.export`) or a training work directory (its best checkpoint). At the
start of a run that has no checkpoint of its own, the model's parameters and model state
(batch statistics) are replaced by that model's; the optimizer state, the step and the
rng start fresh. Every array must have the name, shape and dtype the config's model
gives it, or the run stops before training with one line naming the first that differs.
Once the run has saved a checkpoint, it resumes from that and `init_from` is not read
again (so it may change or disappear; `saved_config.CONTINUATION_FIELDS`). What a run
started from is recorded in its run_info.json (`initialized_from`).
"""

from __future__ import annotations

import os

import jax
import numpy as np

from aelab.core.errors import ConfigError
from aelab.core.options import Options, option, options_class
from aelab.training.run_checkpoints import read_checkpoint_weights
from aelab.training.saved_config import CONFIG_FILE, read_config
from aelab.training.state import TrainState
from aelab.training.weight_files import WEIGHTS_FILE, WeightsError, read_weights, weights_like


@options_class
class WarmStartOptions(Options):
    """`config.train` option of where a fresh run's weights come from."""

    init_from: str | None = option(
        None,
        "start a fresh run from these weights: an exported model directory or a work "
        "directory (its best checkpoint); ignored once the run has its own checkpoint "
        "(None: random initialisation)",
    )


def init_source_problem(path: str) -> str | None:
    """The one-line problem of `init_from=path` when it names no model, else None
    (checked before a fresh run writes anything; the arrays are checked once the model
    is built)."""
    path = os.path.abspath(os.path.expanduser(path))
    if os.path.isfile(os.path.join(path, WEIGHTS_FILE)):
        return None
    if os.path.isfile(os.path.join(path, CONFIG_FILE)) and os.path.isdir(
        os.path.join(path, "checkpoints")
    ):
        return None
    return (
        f"config.train.init_from={path!r} is neither an exported model (a directory with "
        f"{WEIGHTS_FILE}) nor a work directory with {CONFIG_FILE} and checkpoints/; give "
        "one of those, or None to start from random weights."
    )


def read_initial_weights(path: str) -> tuple[dict[str, np.ndarray], dict]:
    """(flat weights {"params/<path>": array, ...}, a record of where they came from) of
    an exported model directory or a work directory's best checkpoint.

    Raises:
      ConfigError: `path` is neither, naming `config.train.init_from`.
      WeightsError: the weights file or checkpoint is damaged.
    """
    path = os.path.abspath(os.path.expanduser(path))
    weights = os.path.join(path, WEIGHTS_FILE)
    if os.path.isfile(weights):
        flat, metadata = read_weights(weights)
        return flat, {"path": path, "kind": "export", "step": int(metadata.get("step", -1))}
    if os.path.isfile(os.path.join(path, CONFIG_FILE)) and os.path.isdir(
        os.path.join(path, "checkpoints")
    ):
        flat, step = read_checkpoint_weights(path, read_config(path), "best")
        return flat, {"path": path, "kind": "workdir", "step": step}
    raise ConfigError(init_source_problem(path))


def warm_start(state: TrainState, shardings: TrainState, path: str) -> tuple[TrainState, dict]:
    """`state` with its params and model state taken from `path` (see
    `read_initial_weights`), placed with `shardings`; returns (state, where from).

    Raises:
      ConfigError: `path` is not a model, or its arrays do not fit `state`'s model (the
        first missing, extra or differently shaped array is named).
    """
    flat, origin = read_initial_weights(path)
    try:
        params, model_state = weights_like(
            flat, state.params, state.model_state, source=f"config.train.init_from={path!r}"
        )
    except WeightsError as e:
        raise ConfigError(str(e)) from None
    params = jax.device_put(params, shardings.params)
    model_state = jax.device_put(model_state, shardings.model_state)
    return state.replace(params=params, model_state=model_state), origin
