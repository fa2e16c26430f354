"""Objectives with a second network trained against the model: a discriminator or
critic (FactorVAE's total-correlation discriminator, a GAN's image discriminator).

Such an objective owns its discriminator: it builds the network (from its own options)
and scores both sides from one forward pass of the model on a batch:

    terms, decoded, seen = objective.adversarial_terms(model, discriminator, batch, ...)
    loss, metrics = objective.reduce_terms(model, batch, terms, decoded)  # the model's
    d_loss, d_metrics = objective.discriminator_loss(discriminator, stop_gradient(seen),
                                                     batch, rngs=..., step=step)

`seen` is whatever the discriminator needs from the model's side (latent samples,
reconstructions), a pytree of arrays; the train step (`aelab.training.step`) stops its
gradient, so the discriminator's loss moves only the discriminator. The discriminator
has its own optimizer (`config.optimizer.discriminator`). Called like any objective
(`objective(model, batch, ...)`, as the evaluators do), it scores the model without the
adversarial terms, which need the trained discriminator.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

import jax
import jax.numpy as jnp
from flax import nnx

from aelab.objectives.base import Metrics, Objective


class AdversarialObjective(Objective):
    """Base class of objectives that train a discriminator alongside the model.

    Subclasses implement `build_discriminator`, `adversarial_terms` (the model's
    per-example terms with the discriminator's verdict) and `discriminator_loss`;
    `per_example_terms` (no discriminator) serves plain calls and evaluators.
    """

    @abc.abstractmethod
    def build_discriminator(
        self, model: nnx.Module, example_shape: Sequence[int], *, rngs: nnx.Rngs
    ) -> nnx.Module:
        """The discriminator for `model` on examples of shape `example_shape`."""

    @abc.abstractmethod
    def adversarial_terms(
        self,
        model: nnx.Module,
        discriminator: nnx.Module,
        batch: dict,
        *,
        rngs: nnx.Rngs | None,
        train: bool,
        step: jax.Array,
    ) -> tuple[Metrics, jax.Array, object]:
        """({name: [batch], with "loss"}, decoded [batch, *output_shape], what the
        discriminator's loss reads from the model's side: a pytree of arrays)."""

    @abc.abstractmethod
    def discriminator_loss(
        self, discriminator: nnx.Module, seen, batch: dict, *, rngs: nnx.Rngs, step: jax.Array
    ) -> tuple[jax.Array, Metrics]:
        """(scalar loss of the discriminator, {name: scalar}) on `seen` (gradient
        already stopped) and the batch."""

    def discriminator_active(self, step: jax.Array) -> jax.Array:
        """Whether the discriminator is updated at `step` (a bool scalar); always, unless
        a subclass starts it later."""
        return jnp.asarray(True)

    def generator_loss(
        self,
        model: nnx.Module,
        discriminator: nnx.Module,
        batch: dict,
        *,
        rngs: nnx.Rngs | None,
        train: bool,
        step: jax.Array,
    ) -> tuple[jax.Array, Metrics, object]:
        """(the model's scalar loss, its metrics, what the discriminator reads)."""
        terms, decoded, seen = self.adversarial_terms(
            model, discriminator, batch, rngs=rngs, train=train, step=step
        )
        loss, metrics = self.reduce_terms(model, batch, terms, decoded)
        return loss, metrics, seen


def is_adversarial(objective: Objective) -> bool:
    """Whether `objective` trains a discriminator (and so needs the two-optimizer step)."""
    return isinstance(objective, AdversarialObjective)
