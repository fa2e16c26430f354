"""What evaluators work on: a trained run, its data as arrays, and where plots go.

Data splits are loaded once per context and shared by all evaluators: the inputs as
the model sees them (the run's transform, with the fixed evaluation noise stream for
random transforms such as dynamic binarisation) and the labels.
"""

from __future__ import annotations

import dataclasses
import os
import zlib

import jax
import numpy as np

from aelab.data import load_split
from aelab.data.pipeline import PipelineOptions, ProcessSlice, eval_batches
from aelab.data.run_splits import has_validation, run_splits
from aelab.evaluation.loading import TrainedRun
from aelab.evaluation.model_calls import ModelCalls
from aelab.training.seeds import data_seed

_LOAD_BATCH = 1000
REPORT_SPLITS = ("eval", "validation")


@dataclasses.dataclass(frozen=True)
class SplitData:
    """One split as arrays.

    Attributes:
      inputs: float32 [n, *example_shape], transformed as in training (scaled,
        binarised) but never corrupted: a run trained on corrupted inputs (denoising,
        masking) is evaluated on the clean data, and evaluators that measure a
        corruption (denoising, imputation) apply it themselves.
      labels: int32 [n], or None when the data set has no labels.
    """

    inputs: np.ndarray
    labels: np.ndarray | None

    def __len__(self) -> int:
        return len(self.inputs)

    def require_labels(self, what: str) -> np.ndarray:
        """The labels, int32 [n]; raises ValueError naming `what` when there are none."""
        if self.labels is None:
            raise ValueError(f"{what} needs labels, and this data set has none.")
        return self.labels


def load_split_arrays(
    config, spec, source, *, labels=None, max_examples: int | None = None
) -> SplitData:
    """Every example of a record `source` (only those with a label in `labels`, at most
    `max_examples`) as arrays, transformed like the evaluation batches of training."""
    inputs, targets = [], []
    for batch in eval_batches(
        source,
        spec.transform,
        ProcessSlice(_LOAD_BATCH),  # every process loads every row
        seed=data_seed(config),
        labels=labels,
        max_examples=max_examples,
    ):
        real = batch["mask"] > 0
        # With a training corruption the batch's "inputs" are corrupted and its
        # "targets" are the clean data.
        inputs.append(batch.get("targets", batch["inputs"])[real])
        if "label" in batch:
            targets.append(batch["label"][real])
    return SplitData(
        inputs=np.concatenate(inputs),
        labels=np.concatenate(targets) if targets else None,
    )


class EvalContext:
    """A trained run plus cached data and model calls, shared by the evaluators.

    Args:
      run: the trained run.
      output_dir: where plots are written.
      seed: base seed of the evaluators' randomness (each evaluator folds in its name).
      is_chief: only the chief process writes files.
      split_cache: a dict to keep loaded splits in across contexts (the training loop
        passes one, so periodic evaluations load data once).
      report_split: what `split("eval")` is: "eval" (config.data.eval_split, the
        split results are reported on) or "validation" (the run's validation split,
        every label: what settings such as hyperparameters are chosen on).
    """

    def __init__(
        self,
        run: TrainedRun,
        output_dir: str,
        *,
        seed: int = 0,
        is_chief: bool = True,
        split_cache: dict | None = None,
        report_split: str = "eval",
    ):
        if report_split not in REPORT_SPLITS:
            raise ValueError(
                f"report_split {report_split!r} is not valid; choose one of "
                f"{', '.join(REPORT_SPLITS)}."
            )
        self.run = run
        self.report_split = report_split
        self.config = run.config
        self.spec = run.spec
        self.output_dir = output_dir
        self.seed = seed
        self.is_chief = is_chief
        self.plots: list[str] = []
        self._splits = {} if split_cache is None else split_cache
        self._model_calls: ModelCalls | None = None

    @property
    def likelihood(self):
        return self.spec.objective.likelihood

    @property
    def model_calls(self) -> ModelCalls:
        """Jitted, batched encode / decode / reconstruct of the trained model."""
        if self._model_calls is None:
            self._model_calls = ModelCalls(
                self.run.graphdef, self.run.params, self.run.model_state, self.likelihood
            )
        return self._model_calls

    def split(
        self,
        which: str = "eval",
        *,
        labels=None,
        max_examples: int | None = None,
    ) -> SplitData:
        """One of the run's splits as arrays.

        Args:
          which: "eval" (what results are reported on: config.data.eval_split, or the
            validation split for a context with report_split="validation"), "train"
            (what the run trained on: train_split without its validation part) or
            "validation" (what settings are chosen on: never the test split; see
            `aelab.data.run_splits`).
          labels: keep only examples with these labels; None keeps all.
          max_examples: the first this many (after label selection); None: all.
        """
        labels = None if labels is None else tuple(int(label) for label in labels)
        which = self._which(which)
        key = (which, labels, max_examples)
        if key not in self._splits:
            self._splits[key] = load_split_arrays(
                self.config,
                self.spec,
                self._source(which),
                labels=labels,
                max_examples=max_examples,
            )
        return self._splits[key]

    def source(self, which: str = "eval"):
        """The record source of one of the run's splits (`split`'s `which`): raw records,
        every key the data set has (e.g. dSprites' `factors`), not transformed."""
        return self._source(self._which(which))

    def _which(self, which: str) -> str:
        if which not in ("eval", "train", "validation"):
            raise ValueError(f"split {which!r} is not valid; choose eval, train or validation.")
        if which == "eval" and self.report_split == "validation":
            return "validation"
        return which

    def _source(self, which: str):
        if which == "eval":
            return load_split(self.config.data, self.pipeline.eval_split)[0]
        splits = run_splits(self.config.data)
        if which == "train":
            return splits.train
        if not splits.has_validation:
            raise ValueError(
                "This run has no validation split to choose settings on: train it with "
                "config.data.validation_fraction > 0 (or validation_split)."
            )
        return splits.selection

    @property
    def has_validation(self) -> bool:
        """Whether the run has a validation split (`split("validation")`)."""
        return has_validation(self.config.data)

    @property
    def pipeline(self) -> PipelineOptions:
        """The run's `config.data` pipeline options (splits, labels, batches)."""
        return PipelineOptions.from_section(self.config.data, path="data")

    def eval_labels(self):
        """The labels the run evaluates on (config.data.eval_labels; None: all)."""
        return self.pipeline.eval_labels

    def train_labels(self):
        """The labels the run trained on (config.data.train_labels; None: all)."""
        return self.pipeline.train_labels

    def rng(self, name: str) -> np.random.Generator:
        """A NumPy generator for the evaluator `name`, the same on every run."""
        return np.random.default_rng([self.seed, zlib.crc32(name.encode())])

    def key(self, name: str) -> jax.Array:
        """A JAX key for the evaluator `name`, the same on every run."""
        return jax.random.fold_in(jax.random.PRNGKey(self.seed), zlib.crc32(name.encode()))

    def plot_path(self, filename: str) -> str:
        """Where to write the plot `filename`; records it for results.json."""
        os.makedirs(self.output_dir, exist_ok=True)
        path = os.path.join(self.output_dir, filename)
        self.plots.append(path)
        return path

    @property
    def display_shape(self) -> tuple[int, ...]:
        """The data set's own example shape (inputs may be flattened for dense models)."""
        return tuple(self.spec.info.input_shape)

    @property
    def is_image(self) -> bool:
        shape = self.display_shape
        return len(shape) == 3 and shape[-1] in (1, 3)

    @property
    def data_range(self) -> float:
        """The range of the model inputs: 1 for data scaled to [0, 1]."""
        if self.spec.transform.value_max is not None:
            return 1.0
        inputs = self.split("eval").inputs
        return float(inputs.max() - inputs.min())
