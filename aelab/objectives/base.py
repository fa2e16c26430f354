"""What every objective is: a callable returning `(loss, metrics)`.

An objective scores a model on a batch:

    loss, metrics = objective(model, batch, rngs=rngs, train=True, step=step)

`batch` is a dict with "inputs" ([batch, *data_shape], what the encoder sees), optionally
"targets" (what the decoder should reproduce; defaults to "inputs", differs for
denoising) and "mask" ([batch], 1 for real examples, 0 for padding in evaluation).
`loss` is a scalar to minimise; `metrics` maps names to scalars, each a mean over the
real examples of the batch, so evaluation can average them over batches weighted by
`mask.sum()`.
"""

from __future__ import annotations

import abc

import jax
import jax.numpy as jnp
from flax import nnx

from aelab.core.contract import Encoding
from aelab.core.options import Options, option, options_class
from aelab.objectives.likelihoods import Likelihood
from aelab.objectives.penalties import l1_penalty, l2_penalty


@options_class
class ObjectiveOptions(Options):
    """What every objective takes: weight penalties on the kernels."""

    l1_weight: float = option(0.0, "weight of the L1 penalty on kernel weights", minimum=0.0)
    l2_weight: float = option(
        0.0, "weight of the L2 penalty (0.5 sum w^2) on kernel weights", minimum=0.0
    )


Metrics = dict[str, jax.Array]


def example_weights(batch: dict[str, jax.Array]) -> jax.Array:
    """[batch] weights: the batch's "mask" if present, else ones."""
    mask = batch.get("mask")
    if mask is None:
        return jnp.ones(batch["inputs"].shape[0], jnp.float32)
    return mask.astype(jnp.float32)


def weighted_mean(values: jax.Array, weights: jax.Array) -> jax.Array:
    """Mean of per-example `values` [batch] weighted by `weights` [batch]: scalar."""
    return jnp.sum(values * weights) / jnp.maximum(jnp.sum(weights), 1.0)


def targets_of(batch: dict[str, jax.Array]) -> jax.Array:
    """What the decoder should reproduce: "targets" if present (denoising), else "inputs"."""
    return batch.get("targets", batch["inputs"])


def model_reported_terms(encoding: Encoding) -> tuple[jax.Array | None, Metrics]:
    """Losses and metrics a model reports with its code, such as a VQ-VAE's commitment
    loss and codebook usage (`encoding.losses` and `encoding.metrics`, each
    {name: [batch]}).

    Returns (the sum of the reported losses [batch], or None if there are none;
    {name: [batch]} of every reported loss and metric, to log).
    """
    losses = encoding.losses
    metrics = dict(encoding.metrics)
    metrics.update(losses)
    total = sum(losses.values()) if losses else None
    return total, metrics


class Objective(abc.ABC):
    """Base class: a likelihood plus the model-specific terms in `per_example_terms`.

    Subclasses return per-example terms including "loss"; this class averages them over
    the batch (weighted by the mask), adds the weight penalties and reports the
    reconstruction MSE in data space.

    Class attributes a subclass may set:
      likelihoods: the `config.objective.likelihood` names it works with (None: any);
        another gets one clear error when the objective is built.
      model_kind: the model contract it needs (`aelab.core.contract`): "any",
        "latent_variable" (a VAE) or "compression" (a learned codec).
    """

    likelihoods: tuple[str, ...] | None = None
    model_kind: str = "any"

    def __init__(self, likelihood: Likelihood, *, l1_weight: float = 0.0, l2_weight: float = 0.0):
        self.likelihood = likelihood
        self.l1_weight = l1_weight
        self.l2_weight = l2_weight

    def decoder_output_shape(self, data_shape) -> tuple[int, ...]:
        """Decoder output shape for one example of shape `data_shape`."""
        return self.likelihood.output_shape(data_shape)

    @abc.abstractmethod
    def per_example_terms(
        self, model: nnx.Module, batch: dict, *, rngs: nnx.Rngs | None, train: bool, step: jax.Array
    ) -> tuple[Metrics, jax.Array]:
        """Returns ({name: [batch] values, with "loss"}, decoded [batch, *output_shape])."""

    def __call__(
        self,
        model: nnx.Module,
        batch: dict,
        *,
        rngs: nnx.Rngs | None,
        train: bool,
        step: jax.Array | int = 0,
    ) -> tuple[jax.Array, Metrics]:
        terms, decoded = self.per_example_terms(model, batch, rngs=rngs, train=train, step=step)
        return self.reduce_terms(model, batch, terms, decoded)

    def add_weight_penalty(self, model: nnx.Module, metrics: Metrics) -> tuple[jax.Array, Metrics]:
        """(loss, metrics) with the l1/l2 weight penalties added to metrics["loss"] (and
        reported as "weight_penalty" when either weight is set)."""
        loss = metrics["loss"]
        if self.l1_weight or self.l2_weight:
            params = nnx.state(model, nnx.Param)
            penalty = self.l1_weight * l1_penalty(params) + self.l2_weight * l2_penalty(params)
            metrics["weight_penalty"] = penalty
            loss = loss + penalty
            metrics["loss"] = loss
        return loss, metrics

    def reduce_terms(
        self, model: nnx.Module, batch: dict, terms: Metrics, decoded: jax.Array
    ) -> tuple[jax.Array, Metrics]:
        """(loss, metrics) from per-example `terms` ({name: [batch]}, with "loss") and
        the decoder output [batch, *output_shape]: batch means weighted by the mask, the
        reconstruction MSE in data space and the weight penalties on `model`."""
        weights = example_weights(batch)
        targets = targets_of(batch)
        reconstruction = self.likelihood.mean(decoded)
        squared_error = (reconstruction - targets) ** 2
        terms["mse"] = squared_error.reshape(squared_error.shape[0], -1).mean(axis=-1)
        metrics = {name: weighted_mean(value, weights) for name, value in terms.items()}
        return self.add_weight_penalty(model, metrics)
