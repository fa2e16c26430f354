"""`run_info.json`: what a run was (model, parameter count, devices) and how it ended."""

from __future__ import annotations

import json
import os

import jax
from absl import logging

from aelab.core.atomic_files import write_json_atomically

RUN_INFO_FILE = "run_info.json"


def read_run_info(workdir: str) -> dict:
    """The run's run_info.json ({} when it is missing or unreadable)."""
    path = os.path.join(workdir, RUN_INFO_FILE)
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}
    except ValueError:
        logging.warning("%s is unreadable (damaged); writing it afresh.", path)
        return {}


def update_run_info(workdir: str, **fields) -> None:
    """Sets `fields` in the run's run_info.json (atomically)."""
    info = read_run_info(workdir)
    info.update(fields)
    write_json_atomically(os.path.join(workdir, RUN_INFO_FILE), info, indent=2)


def write_start_info(workdir: str, *, model: str, num_params: int, mesh) -> None:
    """Records what the run is and where it runs, at its start."""
    update_run_info(
        workdir,
        model=model,
        parameter_count=num_params,
        devices=[str(d.device_kind) for d in mesh.devices.flat],
        num_devices=int(mesh.size),
        num_processes=jax.process_count(),
        platform=jax.default_backend(),
        jax_version=jax.__version__,
    )
