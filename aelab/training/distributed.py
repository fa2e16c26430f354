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

from aelab.core.options import Options, option, options_class
from aelab.core.schema import Section

INITIALIZE_MODES = ("auto", "always", "never")


@options_class
class DistributedOptions(Options):
    """`config.distributed`: joining a multi-process job."""

    initialize: str = option(
        "auto",
        "'auto': join when a coordinator is named or a multi-process SLURM job or TPU "
        "slice is detected; 'always'; 'never'",
        choices=INITIALIZE_MODES,
    )
    coordinator_address: str | None = option(
        None,
        "'host:port' of process 0, for a hand-started job",
        pattern=r"[^:\s]+:\d+",
        pattern_doc="a 'host:port' string",
    )
    num_processes: int | None = option(None, "processes in the job", minimum=1)
    process_id: int | None = option(None, "this process's index", minimum=0)

    def check(self):
        if (
            self.process_id is not None
            and self.num_processes is not None
            and self.process_id >= self.num_processes
        ):
            yield "process_id", f"must be < num_processes={self.num_processes}"


DISTRIBUTED_SECTION = Section(
    "distributed", doc="multi-process (multi-host) jobs", shared=(DistributedOptions,)
)


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
    options = DistributedOptions.from_section(config, path="distributed")
    if options.initialize == "never" or jax.distributed.is_initialized():
        return
    coordinator = options.coordinator_address
    if options.initialize == "auto" and not coordinator and not _cluster_detected():
        return
    kwargs = {}
    if coordinator:
        kwargs = dict(
            coordinator_address=coordinator,
            num_processes=options.num_processes,
            process_id=options.process_id,
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
