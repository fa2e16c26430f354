"""The device mesh and the shardings of batches and state.

Training is data parallel over a 1-D mesh with axis "data" spanning every device of
every process: batches are split along their batch axis, parameters and optimizer
state are replicated. (`jax.pmap` is the legacy way to do this; aelab uses `jax.jit`
with shardings, which also scales to many hosts.)
"""

from __future__ import annotations

import jax
from jax.sharding import AxisType, Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

DATA_AXIS = "data"


def make_data_mesh(num_devices: int | None = None) -> Mesh:
    """A 1-D mesh ("data",) over the first `num_devices` devices (all by default)."""
    devices = jax.devices()
    if num_devices is not None:
        if not 0 < num_devices <= len(devices):
            raise ValueError(
                f"config.mesh.num_devices={num_devices} is not valid: this job has "
                f"{len(devices)} devices."
            )
        devices = devices[:num_devices]
    # Auto axis types: XLA's sharding propagation decides intermediate shardings.
    return jax.make_mesh(
        (len(devices),), (DATA_AXIS,), axis_types=(AxisType.Auto,), devices=devices
    )


def batch_sharding(mesh: Mesh, leading_axes: int = 0) -> NamedSharding:
    """Splits the batch axis, which follows `leading_axes` unsharded axes (e.g. 1 for a
    stack of per-step batches [steps, batch, ...])."""
    return NamedSharding(mesh, P(*([None] * leading_axes), DATA_AXIS))


def replicated(mesh: Mesh) -> NamedSharding:
    """Every device holds the whole array."""
    return NamedSharding(mesh, P())
