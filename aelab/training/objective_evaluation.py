"""The objective's metrics averaged exactly over the evaluation split (padding masked).

Used by the loop at every evaluation step, for one model or a population of them (whose
metric sums carry a leading member axis).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import jax
import numpy as np
from jax.sharding import Mesh

from aelab.data.pipeline import PipelineOptions, ProcessSlice, eval_batches, to_global_arrays
from aelab.data.run_splits import RunSplits
from aelab.training.experiment import RunSpec
from aelab.training.loop import LoopOptions
from aelab.training.mesh import batch_sharding
from aelab.training.seeds import data_seed


def evaluation_batches(config, spec: RunSpec, splits: RunSplits) -> Iterator[dict[str, np.ndarray]]:
    """This process's rows of the global batches of the split the loop evaluates on (the
    validation split, or without one the evaluation split; `aelab.data.run_splits`), at
    most `train.eval_examples` of them."""
    pipeline = PipelineOptions.from_section(config.data, path="data")
    loop = LoopOptions.from_section(config.train, path="train")
    return eval_batches(
        splits.selection,
        spec.transform,
        ProcessSlice.current(pipeline.eval_batch_size or pipeline.batch_size),
        seed=data_seed(config),
        labels=splits.selection_labels,
        max_examples=loop.eval_examples,
    )


def average_over_split(
    step: Callable[[dict[str, jax.Array], int], tuple[dict, jax.Array]],
    batches: Iterator[dict[str, np.ndarray]],
    mesh: Mesh,
) -> dict[str, np.ndarray]:
    """Averages `step(batch, batch_index) -> (metric sums, real-example count)` over the
    batches, exactly: each metric's sums over real examples, divided by their number.

    Returns {"eval/<name>": float64 value (scalar, or [P] for a population)}.
    """
    sharding = batch_sharding(mesh)
    sums: dict[str, np.ndarray] = {}
    total = 0.0
    for index, batch in enumerate(batches):
        metric_sums, count = jax.device_get(step(to_global_arrays(batch, sharding), index))
        for name, value in metric_sums.items():
            sums[name] = sums.get(name, 0.0) + np.asarray(value, np.float64)
        total += float(np.ravel(count)[0])
    return {f"eval/{name}": value / total for name, value in sums.items()}
