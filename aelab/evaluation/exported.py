"""Loading a trained model from wherever it is: a work directory, an exported model
directory (`aelab.evaluation.export`) or the Hugging Face Hub.

    run = load_trained("runs/quickstart")              # a work directory: load_run
    run = load_trained("exports/quickstart")           # config.json + data_info.json + params
    run = load_trained("hf://owner/quickstart@v1")     # downloaded, then as an export
    model = run.model()

An exported model is rebuilt from its config and its saved `DatasetInfo`, so loading
reads neither the data set nor any checkpoint; every array of params.safetensors must
have the name, shape and dtype of the model the config builds.
"""

from __future__ import annotations

import os

import jax
from absl import logging

from aelab.data import DatasetInfo
from aelab.evaluation.exporting import DATA_INFO_FILE, LOADED_FILES
from aelab.evaluation.hub import download, is_hub_address
from aelab.evaluation.loading import TrainedRun, abstract_train_state, load_run
from aelab.training import saved_data_info
from aelab.training.experiment import build_run_spec
from aelab.training.saved_config import CONFIG_FILE, read_config
from aelab.training.weight_files import WEIGHTS_FILE, read_weights, weights_like


def is_exported_model(path: str) -> bool:
    """Whether `path` is a directory with an exported model's weights file."""
    return os.path.isfile(os.path.join(path, WEIGHTS_FILE))


def read_data_info(path: str) -> DatasetInfo:
    """The `DatasetInfo` saved in an exported model directory."""
    try:
        return saved_data_info.read_data_info(path, fix="export the run again")
    except FileNotFoundError:
        raise FileNotFoundError(
            f"No {DATA_INFO_FILE} in {path}: an exported model holds "
            f"{', '.join(LOADED_FILES)}; export the run again."
        ) from None


def load_exported(path: str, *, source: str | None = None) -> TrainedRun:
    """Rebuilds the model of an exported directory and fills in its weights.

    Args:
      path: the directory `export` wrote.
      source: what to record as `TrainedRun.source` (default: `path`).

    Raises:
      FileNotFoundError: one of config.json, data_info.json, params.safetensors is missing.
      WeightsError: the weights file is damaged, or an array is missing, extra or of
        another shape or dtype than the config's model has.
    """
    path = os.path.abspath(path)
    missing = [name for name in LOADED_FILES if not os.path.isfile(os.path.join(path, name))]
    if missing:
        raise FileNotFoundError(
            f"{path} is not a complete exported model: {', '.join(missing)} missing (it holds "
            f"{', '.join(LOADED_FILES)}); export the run again."
        )
    config = read_config(path)
    spec = build_run_spec(config, info=read_data_info(path))
    graphdef, abstract = abstract_train_state(config, spec)
    weights_file = os.path.join(path, WEIGHTS_FILE)
    flat, metadata = read_weights(weights_file)
    params, model_state = weights_like(
        flat, abstract.params, abstract.model_state, source=weights_file
    )
    device = jax.local_devices()[0]
    train_seconds = metadata.get("train_seconds")
    logging.info("Loaded the exported model %s (step %s).", path, metadata.get("step"))
    return TrainedRun(
        workdir=None,
        config=config,
        spec=spec,
        graphdef=graphdef,
        params=jax.device_put(params, device),
        model_state=jax.device_put(model_state, device),
        step=int(metadata.get("step", -1)),
        train_seconds=None if train_seconds is None else float(train_seconds),
        source=source or path,
    )


def load_trained(path: str, step: int | str = "best") -> TrainedRun:
    """A trained model from a work directory, an exported directory or the Hub.

    Args:
      path: a training work directory (config.json + checkpoints/), an exported model
        directory (config.json + data_info.json + params.safetensors), or
        "hf://owner/repo[@revision]" (an exported model on the Hugging Face Hub; needs
        `pip install 'aelab[hub]'`).
      step: for a work directory, "best", "latest" or a checkpoint step; an export
        holds one step: "best", "latest" or its number load it, another number is refused.

    Raises:
      FileNotFoundError: `path` is none of these.
      ValueError: `step` names something an exported model does not hold.
    """
    if is_hub_address(path):
        return _exported_at(download(path), step, source=path)
    if is_exported_model(path):
        return _exported_at(path, step, source=None)
    if os.path.isdir(os.path.join(path, "checkpoints")):
        return load_run(path, step)
    raise FileNotFoundError(
        f"{path} is neither an exported model (no {WEIGHTS_FILE}) nor a work directory (no "
        f"checkpoints/ with {CONFIG_FILE}); give one of those, or an hf://OWNER/REPO address."
    )


def _exported_at(path: str, step: int | str, *, source: str | None) -> TrainedRun:
    run = load_exported(path, source=source)
    if step not in ("best", "latest", run.step):
        raise ValueError(
            f"{source or path} is an exported model of step {run.step} only; load it with "
            "step='best' (or export another step of the work directory)."
        )
    return run
