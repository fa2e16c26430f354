"""Where training batches come from, as stacks of global arrays for fused steps.

The loop asks for `next_stacked(k)`: k consecutive global batches stacked on a leading
axis and placed on the mesh ([k, batch, ...], batch axis sharded). A batch source also
says how its position is saved in a checkpoint (`save_arg` / `restore_arg`), so a
resumed run continues with the batch it would have seen.
"""

from __future__ import annotations

from typing import Any, Protocol

import grain
import jax
import numpy as np
from jax.sharding import Mesh

from aelab.data.pipeline import to_global_arrays
from aelab.training.mesh import batch_sharding


class TrainBatches(Protocol):
    """A source of training batches with a checkpointable position."""

    def next_stacked(self, k: int) -> dict[str, jax.Array]:
        """The next k global batches: {name: [k, global_batch, ...]}."""

    def save_arg(self) -> Any:
        """The orbax save argument for the current position."""

    def restore_arg(self) -> Any:
        """The orbax restore argument that moves this source to a saved position."""


class HostBatches:
    """Batches from the host-side grain pipeline, stacked and placed on the mesh."""

    def __init__(self, dataset: grain.IterDataset, mesh: Mesh):
        self.iterator = iter(dataset)
        self._sharding = batch_sharding(mesh, leading_axes=1)

    def next_stacked(self, k: int) -> dict[str, jax.Array]:
        batches = [next(self.iterator) for _ in range(k)]
        stacked = {key: np.stack([b[key] for b in batches]) for key in batches[0]}
        return to_global_arrays(stacked, self._sharding)

    def save_arg(self) -> Any:
        return grain.checkpoint.CheckpointSave(self.iterator)

    def restore_arg(self) -> Any:
        return grain.checkpoint.CheckpointRestore(self.iterator)
