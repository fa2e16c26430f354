"""Where training batches come from, as stacks of global arrays for fused steps.

The loop asks for `next_stacked(k)`: k consecutive global batches stacked on a leading
axis and placed on the mesh ([k, batch, ...], batch axis sharded). A batch source also
says how its position is saved in a checkpoint (`save_arg` / `restore_arg`), so a
resumed run continues with the batch it would have seen.

Two sources give the same batches for the same seed (`aelab.data.pipeline.BatchOrder`)
and save their position in the same form, so a run may resume with either:

- `HostBatches`: the grain pipeline reads and transforms each batch on the host.
- `DeviceBatches`: the whole transformed split lives on the devices; each call sends
  only the batches' example positions (and their binarisation noise, if any) and
  gathers the batches there.

`make_train_batches` picks one from `config.data.device_resident`.
"""

from __future__ import annotations

import math
import os
from typing import Any, Protocol

import grain
import jax
import numpy as np
from absl import logging
from jax.sharding import Mesh

from aelab.core.options import Options, option, options_class
from aelab.data.pipeline import (
    BatchOrder,
    PipelineOptions,
    ProcessSlice,
    batch_noise_rng,
    select_labels,
    to_global_arrays,
    train_batch_indices,
    train_dataset,
)
from aelab.data.transforms import BatchTransform
from aelab.training.mesh import batch_sharding, replicated

DEVICE_RESIDENT_MODES = ("auto", "always", "never")


@options_class
class BatchSourceOptions(Options):
    """`config.data` option of where training batches are assembled."""

    device_resident: str = option(
        "auto",
        "'always': keep the transformed training split on the devices; 'never': stream "
        "it from the host; 'auto': by its size (the same batches either way)",
        choices=DEVICE_RESIDENT_MODES,
    )


# "auto" keeps a split on the devices when one copy per local device takes at most this
# fraction of the memory they have (host RAM for CPU devices).
AUTO_MEMORY_FRACTION = 0.25


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


class DeviceBatches:
    """Batches gathered on the devices from the whole transformed split kept there.

    The split is transformed once on the host (`BatchTransform.prepare_split`) and
    replicated on every device. A call to `next_stacked(k)` computes the k batches'
    example positions on the host from the same `BatchOrder` as the grain pipeline (a
    NumPy permutation per epoch, so the batches are exactly the grain path's), sends
    them ([k, batch] int32) and, with dynamic binarisation, the same per-batch noise the
    grain path draws (`batch_noise_rng`), then gathers and binarises on the devices.

    Args:
      source: a record source (`aelab.data.load_split`).
      transform: raw records -> model inputs.
      mesh: the device mesh.
      global_batch_size: examples per global batch.
      seed: the data seed.
      labels: keep only records with these labels; None keeps all.
    """

    def __init__(
        self,
        source,
        transform: BatchTransform,
        mesh: Mesh,
        *,
        global_batch_size: int,
        seed: int,
        labels=None,
    ):
        record_ids = select_labels(source, labels)
        raw = source.get_batch(record_ids)
        self._raw_example_shape = tuple(raw[transform.input_key].shape[1:])
        prepared = transform.prepare_split(raw)
        self._transform = transform
        self._order = BatchOrder(len(record_ids), global_batch_size, seed)
        self._seed = seed
        self._rows = ProcessSlice.current(global_batch_size).rows
        self._replicated = replicated(mesh)
        self._sharding = batch_sharding(mesh, leading_axes=1)
        self._data = to_global_arrays(prepared, self._replicated)
        self._indices = iter(train_batch_indices())
        self._gather = jax.jit(self._gather_batches, out_shardings=self._sharding)

    @staticmethod
    def split_bytes(num_records: int, example_shape: tuple[int, ...]) -> int:
        """Bytes of one device's copy of a prepared split of `num_records` examples of
        `example_shape` (float32 inputs, int32 labels)."""
        return num_records * (4 * math.prod(example_shape) + 4)

    def _gather_batches(self, data, positions, noise):
        batch = {key: value[positions] for key, value in data.items()}
        if noise is not None:
            batch["inputs"] = self._transform.apply_noise(batch["inputs"], noise)
        return batch

    def next_stacked(self, k: int) -> dict[str, jax.Array]:
        indices = [next(self._indices) for _ in range(k)]
        positions = np.stack([self._order.positions_of_batch(i) for i in indices])
        positions = to_global_arrays({"p": positions.astype(np.int32)}, self._replicated)["p"]
        noise = None
        if self._transform.draws_noise:
            noise = to_global_arrays({"n": self._noise(indices)}, self._sharding)["n"]
        return self._gather(self._data, positions, noise)

    def _noise(self, indices: list[int]) -> np.ndarray:
        """This process's rows of the batches' binarisation noise [k, local_batch, ...]."""
        size = self._order.global_batch_size
        example = self._data["inputs"].shape[1:]
        local = self._rows.stop - self._rows.start
        noise = np.empty((len(indices), local, *example), np.float32)
        for row, index in enumerate(indices):
            rng = batch_noise_rng(self._seed, index)
            if local == size:  # drawn in place: no copy of the largest host array
                self._transform.batch_noise(rng, size, self._raw_example_shape, out=noise[row])
            else:
                whole = self._transform.batch_noise(rng, size, self._raw_example_shape)
                noise[row] = whole[self._rows]
        return noise

    def save_arg(self) -> Any:
        return grain.checkpoint.CheckpointSave(self._indices)

    def restore_arg(self) -> Any:
        return grain.checkpoint.CheckpointRestore(self._indices)


def _memory_per_device() -> int:
    """Bytes of memory a local device has: its own (accelerators) or its share of the
    host's RAM (CPU devices, which all live in host memory)."""
    device = jax.local_devices()[0]
    stats = device.memory_stats() if device.platform != "cpu" else None
    if stats and "bytes_limit" in stats:
        return int(stats["bytes_limit"])
    host = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return host // jax.local_device_count()


def make_train_batches(
    config,
    transform: BatchTransform,
    example_shape: tuple[int, ...],
    source,
    mesh: Mesh,
    *,
    seed: int,
) -> TrainBatches:
    """The training batch source `config.data.device_resident` asks for.

    "always": `DeviceBatches`; "never": `HostBatches` (grain); "auto" (default):
    `DeviceBatches` when one copy of the prepared split takes at most
    AUTO_MEMORY_FRACTION of a device's memory and no corruption is asked for (corrupted
    inputs are made on the host), else `HostBatches`. Both give the same batches.

    Args:
      config: the experiment config (reads `config.data`).
      transform: raw records -> model inputs.
      example_shape: shape of one transformed example.
      source: the training split's record source.
      mesh: the device mesh.
      seed: the data seed.
    """
    mode = BatchSourceOptions.from_section(config.data, path="data").device_resident
    pipeline = PipelineOptions.from_section(config.data, path="data")
    global_batch = pipeline.batch_size
    labels = pipeline.train_labels
    on_device = mode == "always"
    if mode == "auto" and not transform.corruption.is_identity:
        # Corrupted inputs are made on the host, per batch (validation refuses "always").
        logging.info("Training split: streamed from the host (corrupted inputs, for denoising).")
    elif mode == "auto":
        needed = DeviceBatches.split_bytes(len(select_labels(source, labels)), example_shape)
        available = _memory_per_device()
        on_device = needed <= AUTO_MEMORY_FRACTION * available
        logging.info(
            "Training split: %.1f MiB prepared, %.1f MiB of memory per device: %s.",
            needed / 2**20,
            available / 2**20,
            "kept on the devices" if on_device else "streamed from the host",
        )
    if on_device:
        return DeviceBatches(
            source, transform, mesh, global_batch_size=global_batch, seed=seed, labels=labels
        )
    return HostBatches(
        train_dataset(
            source, transform, ProcessSlice.current(global_batch), seed=seed, labels=labels
        ),
        mesh,
    )
