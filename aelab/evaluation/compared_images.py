"""The image sets a Fréchet distance compares, made once for every feature network
(`feature_distance`: aelab's classifier; `fid`: the FID Inception): real evaluation
examples, as many real training examples, the model's reconstructions of the evaluation
examples and, for a latent-variable model, decoded prior samples.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from aelab.evaluation.context import SplitData


@dataclasses.dataclass(frozen=True)
class ComparedImages:
    """Attributes (examples as the model sees them, [n, *example_shape]):
    real: the evaluation split's first n examples and their labels.
    train: the training split's first n examples (fewer if it is smaller): the
      real-vs-real baseline.
    reconstructions: the model's reconstructions of `real` (a VAE decodes its posterior
      mean; a conditional model reads each example's own label).
    samples: decoded prior samples [num_samples, ...] (a conditional model samples the
      classes in equal numbers), or None when the model has no prior.
    """

    real: SplitData
    train: np.ndarray
    reconstructions: np.ndarray
    samples: np.ndarray | None


def balanced_classes(num_samples: int, num_classes: int) -> np.ndarray:
    """Class i mod num_classes for sample i: int32 [num_samples]."""
    return (np.arange(num_samples) % num_classes).astype(np.int32)


def compared_images(
    context, *, max_examples: int | None, num_samples: int | None, sample_key: str
) -> ComparedImages:
    """The sets of `ComparedImages` for `context`'s model.

    Args:
      context: an `aelab.evaluation.EvalContext`.
      max_examples: the first this many evaluation examples (None: all).
      num_samples: prior samples (None: as many as there are real examples).
      sample_key: the name the prior samples' key is folded from (`context.key`): the
        calling evaluator's, so that each evaluator's samples stay its own.
    """
    data = context.split("eval", labels=context.eval_labels(), max_examples=max_examples)
    train = context.split("train", max_examples=len(data))
    calls = context.model_calls
    reconstructions = calls.reconstruct(data.inputs, calls.label_condition(data.labels))
    samples = None
    if calls.is_variational:
        count = len(data) if num_samples is None else num_samples
        z = calls.sample_prior(context.key(sample_key), count)
        classes = balanced_classes(count, calls.condition_dim or 1)
        samples = calls.decode(z, calls.label_condition(classes))
    return ComparedImages(data, train.inputs, reconstructions, samples)
