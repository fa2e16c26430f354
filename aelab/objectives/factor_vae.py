"""FactorVAE: the ELBO plus a total-correlation penalty estimated by a discriminator
(Kim & Mnih, 2018, "Disentangling by Factorising")."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
from flax import nnx

from aelab.core.options import option, options_class
from aelab.objectives.adversarial import AdversarialObjective
from aelab.objectives.base import Metrics, ObjectiveOptions, example_weights, weighted_mean
from aelab.objectives.elbo import require_one_gaussian_latent, single_sample_elbo_terms
from aelab.objectives.registry import register_objective


@options_class
class FactorVaeOptions(ObjectiveOptions):
    """`config.objective` of "factor_vae"."""

    gamma: float = option(
        10.0,
        "weight of the total-correlation estimate (the paper: 10-100; 35-40 on dSprites)",
        minimum=0.0,
    )
    discriminator_depth: int = option(
        6, "hidden layers of the discriminator MLP (the paper: 6)", minimum=1
    )
    discriminator_width: int = option(
        1000, "units per hidden layer of the discriminator (the paper: 1000)", minimum=1
    )


def permute_dims(z: jax.Array, key: jax.Array) -> jax.Array:
    """Each column of `z` [batch, latent] shuffled across the batch by its own random
    permutation: samples of prod_j q(z_j) when the rows are samples of q(z).

    Every column of the result is a permutation of the same column of `z`, so each
    marginal is kept while the dependence between dimensions is broken.
    """
    keys = jax.random.split(key, z.shape[1])
    return jax.vmap(lambda k, column: jax.random.permutation(k, column), out_axes=1)(keys, z.T)


class TotalCorrelationDiscriminator(nnx.Module):
    """An MLP z [batch, latent] -> logits [batch] that z came from q(z) rather than from
    prod_j q(z_j): leaky-ReLU (slope 0.2) hidden layers, as in the paper."""

    def __init__(self, latent_dim: int, *, depth: int, width: int, rngs: nnx.Rngs):
        sizes = [latent_dim] + [width] * depth
        self.hidden = nnx.List([nnx.Linear(a, b, rngs=rngs) for a, b in itertools.pairwise(sizes)])
        self.out = nnx.Linear(width, 1, rngs=rngs)

    def __call__(self, z: jax.Array) -> jax.Array:
        h = z
        for layer in self.hidden:
            h = nnx.leaky_relu(layer(h), negative_slope=0.2)
        return self.out(h)[:, 0]


def total_correlation_estimate(logits: jax.Array) -> jax.Array:
    """Per-example TC estimate [batch] from the discriminator's logits [batch].

    With D(z) = sigmoid(logit), log D(z) - log(1 - D(z)) = logit: at the optimum D,
    the density ratio log q(z) / prod_j q(z_j), whose mean under q(z) is the total
    correlation KL(q(z) || prod_j q(z_j)).
    """
    return logits


def discriminator_cross_entropy(
    real_logits: jax.Array, permuted_logits: jax.Array, weights: jax.Array
) -> jax.Array:
    """Binary cross-entropy: label 1 for q(z) samples, 0 for dimension-wise permuted
    ones; logits [batch], weights [batch]; scalar (mean over both halves)."""
    per_example = jax.nn.softplus(-real_logits) + jax.nn.softplus(permuted_logits)
    return 0.5 * weighted_mean(per_example, weights)


@register_objective("factor_vae", options=FactorVaeOptions)
class FactorVaeObjective(AdversarialObjective):
    """loss = -ELBO + gamma * TC, with TC = E_q(z)[log D(z) - log(1 - D(z))] estimated
    by a discriminator D on the posterior samples z ~ q(z|x) of the batch.

    D (an MLP, `discriminator_depth` x `discriminator_width`) is trained by
    cross-entropy to tell the batch's samples z from the same samples with each
    dimension permuted across the batch (`permute_dims`). The paper permutes a second,
    independent half-batch; here the permutation is of the same batch's (gradient-
    stopped) samples, as disentanglement_lib does: no extra forward pass, and each
    batch's samples serve both sides of D. The permutation's key is the step's.

    Needs a VAE with one Gaussian latent (dense_vae, conv_vae, ...). Reported per
    example: "loss", "elbo", "kl", "reconstruction_nll", "total_correlation" (the
    discriminator's estimate; absent when called without a discriminator, as the
    evaluators do, where "loss" is -ELBO), "bits_per_dim" for discrete likelihoods. The
    discriminator reports "discriminator_loss" and "discriminator_accuracy".
    """

    model_kind = "latent_variable"

    def __init__(
        self,
        likelihood,
        *,
        gamma: float = 10.0,
        discriminator_depth: int = 6,
        discriminator_width: int = 1000,
        **kwargs,
    ):
        super().__init__(likelihood, **kwargs)
        self.gamma = gamma
        self.discriminator_depth = discriminator_depth
        self.discriminator_width = discriminator_width

    def build_discriminator(
        self, model: nnx.Module, example_shape: Sequence[int], *, rngs: nnx.Rngs
    ) -> nnx.Module:
        require_one_gaussian_latent(model, "factor_vae")
        return TotalCorrelationDiscriminator(
            model.latent_dim,
            depth=self.discriminator_depth,
            width=self.discriminator_width,
            rngs=rngs,
        )

    def _elbo_terms(self, model, batch, *, rngs, train):
        require_one_gaussian_latent(model, "factor_vae")
        output, terms, reported_loss = single_sample_elbo_terms(
            model, batch, self.likelihood, rngs=rngs, train=train, objective="factor_vae"
        )
        terms["loss"] = -terms["elbo"] + reported_loss
        return output, terms

    def per_example_terms(
        self, model: nnx.Module, batch: dict, *, rngs: nnx.Rngs | None, train: bool, step: jax.Array
    ) -> tuple[Metrics, jax.Array]:
        output, terms = self._elbo_terms(model, batch, rngs=rngs, train=train)
        return terms, output.decoded

    def adversarial_terms(self, model, discriminator, batch, *, rngs, train, step):
        output, terms = self._elbo_terms(model, batch, rngs=rngs, train=train)
        z = output.code.reshape(output.code.shape[0], -1)
        tc = total_correlation_estimate(discriminator(z))
        terms["total_correlation"] = tc
        terms["loss"] = terms["loss"] + self.gamma * tc
        return terms, output.decoded, z

    def discriminator_loss(self, discriminator, seen, batch, *, rngs, step):
        z = seen
        permuted = permute_dims(z, rngs.default())
        real_logits, permuted_logits = discriminator(z), discriminator(permuted)
        weights = example_weights(batch)
        loss = discriminator_cross_entropy(real_logits, permuted_logits, weights)
        correct = 0.5 * ((real_logits > 0).astype(jnp.float32) + (permuted_logits < 0))
        return loss, {"loss": loss, "accuracy": weighted_mean(correct, weights)}
