"""Joining a multi-process (multi-host) JAX job.

`jax.distributed.initialize` must run before JAX touches any device. aelab calls it at
the start of `train_and_evaluate` when `config.distributed.initialize` asks for it:

- "auto" (default): join when the config names a coordinator, or when the environment
  is a multi-process SLURM job (SLURM_NTASKS > 1) or a multi-host Cloud TPU slice; a
  single process otherwise. JAX reads the cluster's own variables in the last two cases.
- "always": join, with the config's coordinator fields if set (JAX's auto-detection
  otherwise).
- "never": a single process, whatever the environment.
"""

from __future__ import annotations

import os

import jax
from absl import logging

INITIALIZE_MODES = ("auto", "always", "never")


def _cluster_detected() -> bool:
    if int(os.environ.get("SLURM_NTASKS", "1")) > 1 and "SLURM_PROCID" in os.environ:
        return True
    hosts = os.environ.get("TPU_WORKER_HOSTNAMES", "")
    return len([h for h in hosts.split(",") if h]) > 1


def initialize_distributed(config) -> None:
    """Joins the multi-process job described by `config.distributed` (may be None).

    Fields: initialize ("auto" | "always" | "never"), coordinator_address ("host:port"),
    num_processes, process_id. Safe to call twice.
    """
    config = config or {}
    mode = config.get("initialize", "auto")
    if mode not in INITIALIZE_MODES:
        raise ValueError(
            f"config.distributed.initialize={mode!r} is not valid; choose one of "
            f"{', '.join(INITIALIZE_MODES)}."
        )
    if mode == "never" or jax.distributed.is_initialized():
        return
    coordinator = config.get("coordinator_address")
    if mode == "auto" and not coordinator and not _cluster_detected():
        return
    kwargs = {}
    if coordinator:
        kwargs = dict(
            coordinator_address=coordinator,
            num_processes=config.get("num_processes"),
            process_id=config.get("process_id"),
        )
    logging.info("Joining a multi-process JAX job %s", kwargs or "(cluster auto-detected)")
    jax.distributed.initialize(**kwargs)
    logging.info(
        "Process %d of %d; %d local and %d global devices.",
        jax.process_index(),
        jax.process_count(),
        jax.local_device_count(),
        jax.device_count(),
    )
