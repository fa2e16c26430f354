"""The device mesh and the shardings of batches and state.

Training is data parallel over a 1-D mesh with axis "data" spanning every device of
every process: batches are split along their batch axis. Parameters and optimizer state
are replicated, or, with `config.mesh.param_sharding = "fsdp"`, split over the same axis
(`fsdp_shardings`: each device stores a slice, XLA gathers a parameter where it is used
and reduce-scatters its gradient), which divides their memory by the number of devices.
(`jax.pmap` is the legacy way to do data parallelism; aelab uses `jax.jit` with
shardings, which also scales to many hosts.)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
from jax.sharding import AxisType, Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from aelab.core.options import Options, option, options_class
from aelab.core.schema import Section

DATA_AXIS = "data"
PARAM_SHARDINGS = ("replicated", "fsdp")


@options_class
class MeshOptions(Options):
    """`config.mesh`: the devices and how the state is laid out over them."""

    num_devices: int | None = option(
        None, "devices to use (None: every device of every process)", minimum=1
    )
    param_sharding: str = option(
        "replicated",
        "'fsdp': parameters and optimizer state split over the devices; 'replicated': a "
        "full copy on each",
        choices=PARAM_SHARDINGS,
    )


MESH_SECTION = Section("mesh", doc="the device mesh", shared=(MeshOptions,))


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


# Smaller arrays stay replicated: gathering them costs more than storing them.
FSDP_MIN_ELEMENTS = 1024


def fsdp_shardings(abstract_state: Any, mesh: Mesh, *, min_elements: int = FSDP_MIN_ELEMENTS):
    """Shardings that split each array of the state over the "data" axis.

    An array with at least `min_elements` values is split along its largest axis whose
    size divides by the number of devices; other arrays (scalars, biases, arrays with no
    such axis) are replicated. Optimizer moments have their parameter's shape, so they
    are split the same way. Usable as `create_train_state(..., state_sharding_fn=...)`.
    """

    def sharding_of(leaf) -> NamedSharding:
        shape = tuple(getattr(leaf, "shape", ()))
        if math.prod(shape) < min_elements:
            return replicated(mesh)
        axes = [a for a in sorted(range(len(shape)), key=lambda a: -shape[a])]
        axes = [a for a in axes if shape[a] % mesh.size == 0]
        if not axes:
            return replicated(mesh)
        spec = [None] * len(shape)
        spec[axes[0]] = DATA_AXIS
        return NamedSharding(mesh, P(*spec))

    return jax.tree.map(sharding_of, abstract_state)


def state_sharding_fn(mesh_config) -> Callable[[Any, Mesh], Any] | None:
    """The `state_sharding_fn` for `config.mesh.param_sharding` (None: replicated)."""
    mode = MeshOptions.from_section(mesh_config, path="mesh").param_sharding
    return fsdp_shardings if mode == "fsdp" else None
