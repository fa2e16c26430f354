"""The splits a run uses: what it trains on, what it selects models on, what it reports.

Model selection (the best checkpoint, early stopping, hyperparameters, a baseline's
settings) uses a validation split, never the test split: `config.data.validation_split`
names one the data set has (binarized MNIST's 10,000), or `validation_fraction` carves
one from the training split: a fixed random subset (seed 0, the same for every config
seed, so the members of a sweep are compared on the same examples) that the run then
does not train on. The loop evaluates on the validation split, filtered by
`train_labels` like the training data (a one-class detector selects on normal
examples); evaluators report on `eval_split`. With neither, the loop evaluates on
`eval_split` for logging only: it ranks no checkpoint and refuses early stopping.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from aelab.data.pipeline import PipelineOptions
from aelab.data.records import RecordSource
from aelab.data.sources import load_split

_VALIDATION_SEED = 0


class SubsetSource:
    """The records of `source` at `indices` (sorted), as a record source of their own.

    Args:
      source: the full split.
      indices: int64 [n] positions in `source`.
      name: for repr (grain compares reprs on restore).
    """

    def __init__(self, source: RecordSource, indices: np.ndarray, *, name: str):
        self._source = source
        self._indices = np.asarray(indices, np.int64)
        self._name = name

    def __len__(self) -> int:
        return len(self._indices)

    def __getitem__(self, index: int):
        return self._source[int(self._indices[index])]

    def get_batch(self, indices: np.ndarray):
        return self._source.get_batch(self._indices[np.asarray(indices, np.int64)])

    def __repr__(self) -> str:
        return f"SubsetSource({self._name}, {len(self)} of {self._source!r})"


def carve_validation(source: RecordSource, fraction: float) -> tuple[SubsetSource, SubsetSource]:
    """(training part, validation part) of `source`: a fixed random `fraction` of its
    records (at least one) is the validation part."""
    n = len(source)
    count = min(n - 1, max(1, round(fraction * n)))
    order = np.random.default_rng(_VALIDATION_SEED).permutation(n)
    validation, train = np.sort(order[:count]), np.sort(order[count:])
    return (
        SubsetSource(source, train, name="training part"),
        SubsetSource(source, validation, name="validation part"),
    )


@dataclasses.dataclass(frozen=True)
class RunSplits:
    """The sources of a run.

    Attributes:
      train: what the run trains on.
      selection: what the loop evaluates on: the validation split, or (without one)
        the evaluation split.
      selection_labels: the labels kept of `selection` (train_labels for a validation
        split, eval_labels for the evaluation split).
      has_validation: whether `selection` is a validation split (models may be chosen
        on it).
    """

    train: RecordSource
    selection: RecordSource
    selection_labels: tuple[int, ...] | None
    has_validation: bool


def run_splits(data_config) -> RunSplits:
    """The training, selection and labels a run with `config.data` uses."""
    options = PipelineOptions.from_section(data_config, path="data")
    train, _ = load_split(data_config, options.train_split)
    if options.validation_split is not None:
        validation, _ = load_split(data_config, options.validation_split)
        return RunSplits(train, validation, options.train_labels, True)
    if options.validation_fraction > 0:
        train, validation = carve_validation(train, options.validation_fraction)
        return RunSplits(train, validation, options.train_labels, True)
    evaluation, _ = load_split(data_config, options.eval_split)
    return RunSplits(train, evaluation, options.eval_labels, False)


def has_validation(data_config) -> bool:
    """Whether a run with `config.data` has a validation split to select models on."""
    options = PipelineOptions.from_section(data_config, path="data")
    return options.validation_split is not None or options.validation_fraction > 0
