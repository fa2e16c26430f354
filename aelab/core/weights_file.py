"""Reading and writing a file of named float32 arrays: the `.safetensors` or `.npz`
files that pretrained networks' weights are converted to (the LPIPS networks, the FID
Inception), read without pickle and without any network access.

Each kind of weights file checks its own layout; what they share is here: telling the
format by the suffix, turning every reader's complaint about a missing or corrupt file
into the caller's own error (one line naming the path, the problem and how to make the
file), and writing the arrays back contiguous and float32.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

import numpy as np

SUFFIXES = (".safetensors", ".npz")
# What `read_arrays` says when the safetensors package is absent.
NO_SAFETENSORS = (
    "reading .safetensors needs the safetensors package (pip install 'aelab[perceptual]'), "
    "or write the file as .npz instead"
)


def read_arrays(path, error: Callable[[str, str], Exception]) -> dict[str, np.ndarray]:
    """{key: array} of the `.safetensors` or `.npz` file at `path`, as stored.

    Args:
      path: the file.
      error: `error(path, problem) -> Exception`, the caller's one-line error (its
        message adds how to make the file); raised for a missing file, a missing
        safetensors package, a file no reader can read, or an unknown suffix.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise error(path, "no such file")
    if not path.endswith(SUFFIXES):
        raise error(path, "has neither a .safetensors nor a .npz suffix")
    if path.endswith(".safetensors"):
        try:
            from safetensors.numpy import load_file
        except ImportError:
            raise error(path, NO_SAFETENSORS) from None
    try:
        if path.endswith(".safetensors"):
            return dict(load_file(path))
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except Exception as problem:  # any reader's complaint about a corrupt file
        raise error(path, f"cannot be read ({type(problem).__name__}: {problem})") from None


def write_arrays(path, arrays: Mapping[str, np.ndarray], what: str) -> None:
    """Writes `arrays` as float32 to `path`, `.safetensors` (needs the safetensors
    package) or `.npz` by its suffix; `what` names the file in the error for any other
    suffix (e.g. "LPIPS weights")."""
    path = os.fspath(path)
    if not path.endswith(SUFFIXES):
        raise ValueError(f"{what} path {path!r} must end in .safetensors or .npz.")
    arrays = {key: np.ascontiguousarray(value, np.float32) for key, value in arrays.items()}
    if path.endswith(".safetensors"):
        from safetensors.numpy import save_file

        save_file(arrays, path)
    else:
        np.savez(path, **arrays)
