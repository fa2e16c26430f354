"""The input pipeline: a record source -> global batches -> sharded jax arrays.

Training batches come from an endless stream of examples: each epoch is a fresh seeded
permutation of the split, and global batch `i` holds stream positions
[i * B, (i + 1) * B) (a batch may straddle two epochs, so no example is dropped). Every
process computes the same global batch and keeps its own rows, so the batches are
identical for any number of processes. The stream is a grain dataset whose iterator
state (the next batch index) is saved in checkpoints, so a resumed run continues with
exactly the batch it would have seen.

Evaluation batches walk a split once, in order, padding the last batch and marking real
examples with "mask".
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator

import grain
import jax
import numpy as np
from jax.sharding import NamedSharding

from aelab.core.options import Options, option, options_class
from aelab.data.transforms import BatchTransform

# A grain MapDataset needs a length; the training stream is, for practical purposes,
# endless.
_ENDLESS = 2**62
# Keeps the evaluation noise stream (binarisation) apart from the training one.
_EVAL_STREAM = 1


@options_class
class PipelineOptions(Options):
    """`config.data` options of the input pipeline: splits, labels, batches, seed."""

    train_split: str = option(
        "train", "the split trained on (TFDS syntax: 'train', 'train[:90%]', 'train+test')"
    )
    eval_split: str = option("test", "the split evaluators report on (the test split)")
    validation_fraction: float = option(
        0.1,
        "fraction of train_split held out (a fixed random subset) to select models on: "
        "the loop evaluates on it (best checkpoint, early stopping); 0: no validation",
        minimum=0.0,
        below=1.0,
    )
    validation_split: str | None = option(
        None,
        "a validation split of the data set to select models on instead of carving one "
        "(e.g. 'validation' of binarized_mnist; then validation_fraction must be 0)",
    )
    batch_size: int = option(
        128, "the global training batch, split over all devices and processes", minimum=1
    )
    eval_batch_size: int | None = option(
        500, "the global evaluation batch (None: batch_size)", minimum=1
    )
    train_labels: tuple[int, ...] | None = option(
        None,
        "train only on these labels, e.g. (0,): normal ECG beats (None: all)",
        minimum=0,
        min_length=1,
    )
    eval_labels: tuple[int, ...] | None = option(
        None, "evaluate only on these labels (None: all)", minimum=0, min_length=1
    )
    seed: int | None = option(
        None,
        "the data seed: shuffling and per-batch noise (None: config.seed)",
        minimum=0,
        maximum=2**63 - 1,
    )

    def check(self):
        if self.validation_split is not None and self.validation_fraction > 0:
            yield (
                "validation_fraction",
                (
                    f"must be 0 when config.data.validation_split={self.validation_split!r} "
                    "names the validation split"
                ),
            )


def select_labels(source, labels) -> np.ndarray:
    """Indices of records whose label is in `labels` (all records when `labels` is None)."""
    n = len(source)
    if labels is None:
        return np.arange(n, dtype=np.int64)
    all_labels = source.get_batch(np.arange(n))["label"]
    keep = np.flatnonzero(np.isin(all_labels, np.asarray(list(labels))))
    if keep.size == 0:
        raise ValueError(f"No examples of {source!r} have a label in {list(labels)}.")
    return keep


@dataclasses.dataclass(frozen=True)
class ProcessSlice:
    """Which rows of each global batch this process loads."""

    global_batch_size: int
    process_index: int = 0
    process_count: int = 1

    def __post_init__(self):
        if self.global_batch_size % self.process_count:
            raise ValueError(
                f"The global batch size {self.global_batch_size} does not divide among "
                f"{self.process_count} processes; choose a multiple of {self.process_count}."
            )

    @property
    def local_batch_size(self) -> int:
        return self.global_batch_size // self.process_count

    @property
    def rows(self) -> slice:
        start = self.process_index * self.local_batch_size
        return slice(start, start + self.local_batch_size)

    @classmethod
    def current(cls, global_batch_size: int) -> ProcessSlice:
        return cls(global_batch_size, jax.process_index(), jax.process_count())


class BatchOrder:
    """Which examples each global training batch holds: the training stream's order.

    Epoch e is `np.random.default_rng([seed, e]).permutation(num_examples)`; global batch
    i holds stream positions [i * B, (i + 1) * B), so a batch may straddle two epochs.
    Both training batch sources (host-side grain, device-resident) read this order, so
    they train on exactly the same batches.
    """

    def __init__(self, num_examples: int, global_batch_size: int, seed: int):
        self.num_examples = num_examples
        self.global_batch_size = global_batch_size
        self.seed = seed

    @functools.lru_cache(maxsize=4)  # noqa: B019  (a few epochs' permutations at a time)
    def epoch_order(self, epoch: int) -> np.ndarray:
        """The permutation of example positions [num_examples] for epoch `epoch`."""
        return np.random.default_rng([self.seed, epoch]).permutation(self.num_examples)

    def positions_of_batch(self, batch_index: int) -> np.ndarray:
        """Example positions (indices into the selected examples) of global batch
        `batch_index`: int64 [global_batch_size], in batch order."""
        size = self.global_batch_size
        positions = np.arange(batch_index * size, (batch_index + 1) * size, dtype=np.int64)
        epochs, offsets = np.divmod(positions, self.num_examples)
        order = np.empty_like(positions)
        for epoch in np.unique(epochs):
            where = epochs == epoch
            order[where] = self.epoch_order(int(epoch))[offsets[where]]
        return order


def batch_noise_rng(seed: int, batch_index: int) -> np.random.Generator:
    """The rng of global training batch `batch_index`'s random transforms (binarisation)."""
    return np.random.default_rng([seed, 0, int(batch_index)])


class _TrainBatchAssembler(grain.transforms.Map):
    """Maps a global batch index to this process's rows of that batch."""

    def __init__(
        self,
        source,
        record_ids: np.ndarray,
        transform: BatchTransform,
        process_slice: ProcessSlice,
        seed: int,
    ):
        self._source = source
        self._record_ids = record_ids
        self._transform = transform
        self._slice = process_slice
        self._seed = seed
        self._order = BatchOrder(len(record_ids), process_slice.global_batch_size, seed)

    def record_ids_of_batch(self, batch_index: int) -> np.ndarray:
        """The global batch's record ids [global_batch_size], in batch order."""
        return self._record_ids[self._order.positions_of_batch(batch_index)]

    def map(self, batch_index: int) -> dict[str, np.ndarray]:
        ids = self.record_ids_of_batch(int(batch_index))[self._slice.rows]
        raw = self._source.get_batch(ids)
        rng = batch_noise_rng(self._seed, batch_index)
        return self._transform(
            raw,
            rng=rng,
            global_batch_size=self._slice.global_batch_size,
            local_rows=self._slice.rows,
        )


def train_dataset(
    source,
    transform: BatchTransform,
    process_slice: ProcessSlice,
    *,
    seed: int,
    labels=None,
    num_threads: int = 2,
    prefetch: int = 4,
) -> grain.IterDataset:
    """The endless, seeded, per-epoch reshuffled stream of this process's batch rows.

    Each element is {"inputs": [local_batch, ...], "label": [local_batch]}. Iterate with
    `iter(...)`; the iterator's `get_state()` / `set_state()` (or grain's orbax handler)
    save and restore its position.

    Args:
      source: a record source (`aelab.data.load_split`).
      transform: turns raw records into model inputs.
      process_slice: global batch size and this process's rows.
      seed: the data seed (shuffling and binarisation noise).
      labels: keep only records with these labels (e.g. normal beats for anomaly
        detection); None keeps all.
    """
    record_ids = select_labels(source, labels)
    assembler = _TrainBatchAssembler(source, record_ids, transform, process_slice, seed)
    return (
        grain.MapDataset.range(0, _ENDLESS)
        .map(assembler)
        .to_iter_dataset(grain.ReadOptions(num_threads=num_threads, prefetch_buffer_size=prefetch))
    )


def train_batch_indices() -> grain.IterDataset:
    """The endless stream 0, 1, 2, ... of global training batch indices.

    Its iterator's state has the same form as `train_dataset`'s ({"next_index": i}), so
    a checkpointed position moves either kind of batch source to the same batch.
    """
    return grain.MapDataset.range(0, _ENDLESS).to_iter_dataset(
        grain.ReadOptions(num_threads=0, prefetch_buffer_size=0)
    )


def eval_batches(
    source,
    transform: BatchTransform,
    process_slice: ProcessSlice,
    *,
    seed: int,
    labels=None,
    max_examples: int | None = None,
) -> Iterator[dict[str, np.ndarray]]:
    """One ordered pass over a split in global batches, the last one padded.

    Yields this process's rows: {"inputs", "label" (if any), "mask" float32 [local_batch]}
    with mask 0 on padding. Random transforms use a fixed noise stream, so every
    evaluation sees the same inputs.
    """
    record_ids = select_labels(source, labels)
    if max_examples is not None:
        record_ids = record_ids[:max_examples]
    size = process_slice.global_batch_size
    for batch_index, start in enumerate(range(0, len(record_ids), size)):
        ids = record_ids[start : start + size]
        real = len(ids)
        padded = np.concatenate([ids, np.full(size - real, ids[0], ids.dtype)])
        mask = (np.arange(size) < real).astype(np.float32)
        rows = process_slice.rows
        raw = source.get_batch(padded[rows])
        rng = np.random.default_rng([seed, _EVAL_STREAM, batch_index])
        batch = transform(raw, rng=rng, global_batch_size=size, local_rows=rows)
        batch["mask"] = mask[rows]
        yield batch


def to_global_arrays(batch: dict[str, np.ndarray], sharding: NamedSharding) -> dict[str, jax.Array]:
    """Places this process's rows as one globally sharded jax array per key."""
    return {
        key: jax.make_array_from_process_local_data(sharding, value) for key, value in batch.items()
    }
