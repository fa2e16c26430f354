"""Softmax cross-entropy on the batch's labels: how aelab trains its own classifier
(`conv_classifier`), the measuring instrument of the feature distance."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax
from flax import nnx

from aelab.core.options import option, options_class
from aelab.objectives.base import (
    Metrics,
    Objective,
    ObjectiveOptions,
    example_weights,
    weighted_mean,
)
from aelab.objectives.registry import register_objective


@options_class
class ClassificationOptions(ObjectiveOptions):
    """`config.objective` of "classification"."""

    num_classes: int = option(10, "K: classes; the model outputs K logits", minimum=2)
    label_smoothing: float = option(
        0.0, "mass spread uniformly over the K classes in the targets", minimum=0.0, below=1.0
    )


def labels_of(batch: dict) -> jax.Array:
    """The batch's labels int32 [batch]; a clear error when it has none."""
    if "label" not in batch:
        raise ValueError(
            "objective 'classification' needs batch['label']: use a labelled data set "
            "(mnist, fashion_mnist, ...)."
        )
    return batch["label"]


@register_objective("classification", options=ClassificationOptions)
class ClassificationObjective(Objective):
    """loss = mean over examples of -sum_k t_k log softmax(logits)_k, t the one-hot
    label (smoothed by `label_smoothing`), plus the weight penalties.

    The model's output (`decoded`) is the class logits [batch, num_classes] (a
    `Classifier`, `aelab.core.contract`). Metrics: loss, cross_entropy (unsmoothed),
    accuracy and error_rate, each a mean over the real examples. The likelihood field
    of `config.objective` is not read.
    """

    model_kind = "classifier"

    def __init__(self, likelihood, *, num_classes: int = 10, label_smoothing: float = 0.0, **kw):
        super().__init__(likelihood, **kw)
        self.num_classes = num_classes
        self.label_smoothing = label_smoothing

    def decoder_output_shape(self, data_shape) -> tuple[int, ...]:
        """(num_classes,): the logits, whatever the data's shape."""
        return (self.num_classes,)

    def per_example_terms(
        self, model: nnx.Module, batch: dict, *, rngs: nnx.Rngs | None, train: bool, step: jax.Array
    ) -> tuple[Metrics, jax.Array]:
        labels = labels_of(batch)
        logits = model(batch["inputs"], train=train, rngs=rngs).decoded.astype(jnp.float32)
        targets = jax.nn.one_hot(labels, self.num_classes)
        cross_entropy = optax.softmax_cross_entropy(logits, targets)
        if self.label_smoothing:
            smoothed = optax.smooth_labels(targets, self.label_smoothing)
            loss = optax.softmax_cross_entropy(logits, smoothed)
        else:
            loss = cross_entropy
        correct = (jnp.argmax(logits, axis=-1) == labels).astype(jnp.float32)
        terms = {
            "loss": loss,
            "cross_entropy": cross_entropy,
            "accuracy": correct,
            "error_rate": 1.0 - correct,
        }
        return terms, logits

    def reduce_terms(
        self, model: nnx.Module, batch: dict, terms: Metrics, decoded: jax.Array
    ) -> tuple[jax.Array, Metrics]:
        """Batch means weighted by the mask, plus the weight penalties (no data-space
        reconstruction error: a classifier reconstructs nothing)."""
        weights = example_weights(batch)
        metrics = {name: weighted_mean(value, weights) for name, value in terms.items()}
        return self.add_weight_penalty(model, metrics)
