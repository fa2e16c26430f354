"""A model's weights as one safetensors file: parameters and model state, no optimizer.

The file holds flat names, one array each:

    params/encoder/mlp/hidden/0/kernel     float32 [64, 32]
    model_state/encoder/norms/0/mean       float32 [32]    (batch statistics, if any)

and string metadata: the training `step`, the `aelab_version` that wrote it, the
`train_seconds` when known, and a `sha256` of names, dtypes, shapes and bytes.
Safetensors checks the file's structure (a truncated file fails to open), not its
values; the checksum catches flipped bytes inside an array, as the checkpoints'
fingerprints do (`checkpoint_integrity`).

Reading never trusts the file to describe the model: `weights_like` puts the arrays into
the shapes of a model built from its config, and names the first array that is missing,
extra, or of another shape or dtype.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from typing import Any

import jax
import numpy as np
import safetensors
import safetensors.numpy

from aelab.version import __version__

WEIGHTS_FILE = "params.safetensors"
GROUPS = ("params", "model_state")


class WeightsError(ValueError):
    """A weights file is missing or damaged, or does not fit the model."""


def _name(group: str, path) -> str:
    keys = [str(getattr(k, "key", getattr(k, "idx", k))) for k in path]
    return "/".join([group, *keys])


def flatten_weights(params: Mapping, model_state: Mapping) -> dict[str, np.ndarray]:
    """{"params/<path>": array, "model_state/<path>": array} of a model's pure dicts
    (as `split_model` gives them), as host NumPy arrays."""
    flat = {}
    for group, tree in zip(GROUPS, (params, model_state), strict=True):
        for path, value in jax.tree_util.tree_flatten_with_path(dict(tree))[0]:
            flat[_name(group, path)] = np.asarray(jax.device_get(value))
    return flat


def _checksum(flat: Mapping[str, np.ndarray]) -> str:
    digest = hashlib.sha256()
    for name in sorted(flat):
        array = np.ascontiguousarray(flat[name])
        digest.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def write_weights(
    path: str,
    params: Mapping,
    model_state: Mapping,
    *,
    step: int,
    train_seconds: float | None = None,
) -> None:
    """Writes `params` and `model_state` (pure dicts of arrays) to a safetensors file."""
    flat = flatten_weights(params, model_state)
    metadata = {
        "format": "aelab-weights-1",
        "aelab_version": __version__,
        "step": str(int(step)),
        "sha256": _checksum(flat),
    }
    if train_seconds is not None:
        metadata["train_seconds"] = repr(float(train_seconds))
    safetensors.numpy.save_file(flat, path, metadata=metadata)
    os.chmod(path, 0o644)  # safetensors creates it 0600: readable by collaborators instead.


def read_weights(path: str) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """(flat arrays {name: array}, metadata) of a file `write_weights` wrote.

    Raises:
      WeightsError: the file is missing, is not a safetensors file, is truncated, or
        its arrays do not match their checksum.
    """
    if not os.path.isfile(path):
        raise WeightsError(
            f"No weights file {path}: an exported model directory holds {WEIGHTS_FILE}; "
            "export the run again with aelab.evaluation.export(workdir, out)."
        )
    try:
        with safetensors.safe_open(path, framework="np") as f:
            metadata = dict(f.metadata() or {})
            flat = {name: np.array(f.get_tensor(name)) for name in f.keys()}
    except (safetensors.SafetensorError, OSError) as e:
        raise WeightsError(
            f"{path} is not a readable safetensors file ({e}); it is damaged or truncated: "
            "download or export it again."
        ) from None
    expected = metadata.get("sha256")
    if expected is not None and _checksum(flat) != expected:
        raise WeightsError(
            f"{path} is damaged: its arrays do not match the checksum written with them; "
            "download or export it again."
        )
    return flat, metadata


def weights_like(
    flat: Mapping[str, Any], params: Any, model_state: Any, *, source: str
) -> tuple[dict, dict]:
    """Puts flat arrays into the structure of a model's `params` and `model_state`.

    Args:
      flat: {name: array} as `flatten_weights` / `read_weights` give them.
      params, model_state: the model's pure dicts (arrays or ShapeDtypeStructs), which
        fix every name, shape and dtype.
      source: where `flat` came from, for error messages.

    Returns:
      (params, model_state) with the arrays of `flat` (NumPy, on the host).

    Raises:
      WeightsError: naming the first array that is missing from `flat`, not in the
        model, or of another shape or dtype.
    """
    trees = {group: dict(tree) for group, tree in zip(GROUPS, (params, model_state), strict=True)}
    expected = {}
    for group, tree in trees.items():
        for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
            expected[_name(group, path)] = leaf
    missing = [name for name in expected if name not in flat]
    extra = sorted(name for name in flat if name not in expected)
    fix = "the model built from the config differs from the one that wrote them"
    if missing:
        raise WeightsError(
            f"{source} has no array {missing[0]} ({len(missing)} of the model's "
            f"{len(expected)} arrays missing): {fix}."
        )
    if extra:
        raise WeightsError(
            f"{source} has an array {extra[0]} that the model does not have ({len(extra)} "
            f"extra): {fix}."
        )
    for name, leaf in expected.items():
        array = np.asarray(flat[name])
        shape, dtype = tuple(leaf.shape), np.dtype(leaf.dtype)
        if array.shape != shape or array.dtype != dtype:
            raise WeightsError(
                f"{source}: array {name} is {array.dtype} {list(array.shape)} but the model "
                f"has {dtype} {list(shape)}: {fix}."
            )

    def fill(group: str, tree):
        return jax.tree_util.tree_map_with_path(
            lambda path, _: np.asarray(flat[_name(group, path)]), tree
        )

    return fill("params", trees["params"]), fill("model_state", trees["model_state"])
