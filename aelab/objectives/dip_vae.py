"""DIP-VAE: the ELBO plus a penalty that pulls a covariance of the codes to the identity
(Kumar, Sattigeri and Balakrishnan, 2018, "Variational Inference of Disentangled Latent
Concepts from Unlabeled Observations").

    loss = -ELBO + lambda_od * sum_{i != j} C_ij^2 + lambda_d * sum_i (C_ii - 1)^2,

with C the covariance, over the batch, of

  kind "i":  the encoder means,  C = Cov_x[mu(x)];
  kind "ii": the codes under the aggregate posterior,
             C = Cov_q(z)[z] = E_x[Sigma(x)] + Cov_x[mu(x)].

Both match moments of q(z) = E_x q(z|x) to those of the prior N(0, I), which
decorrelates the latent dimensions (DIP: disentangled inferred prior).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from aelab.core.options import option, options_class
from aelab.objectives.base import Metrics, Objective, ObjectiveOptions, example_weights
from aelab.objectives.elbo import require_one_gaussian_latent, single_sample_elbo_terms
from aelab.objectives.registry import register_objective

KINDS = ("i", "ii")
# The paper's ratio lambda_d / lambda_od for each kind (also disentanglement_lib's).
_DIAGONAL_FACTOR = {"i": 10.0, "ii": 1.0}


@options_class
class DipVaeOptions(ObjectiveOptions):
    """`config.objective` of "dip_vae"."""

    kind: str = option(
        "i",
        "'i': the covariance of the encoder means; 'ii': that of the aggregate posterior, "
        "E[Sigma] + Cov[mu]",
        choices=KINDS,
    )
    lambda_od: float = option(
        10.0, "weight of the squared off-diagonal entries of the covariance", minimum=0.0
    )
    lambda_d: float | None = option(
        None,
        "weight of the squared deviations of its diagonal from 1 (None: the paper's "
        "10 * lambda_od for kind 'i', lambda_od for kind 'ii')",
        minimum=0.0,
    )


def dip_covariance(
    mean: jax.Array, log_var: jax.Array, weights: jax.Array, *, kind: str
) -> jax.Array:
    """The covariance DIP-VAE penalises, over the real examples of the batch.

    Args:
      mean, log_var: [batch, d] the diagonal Gaussian posteriors q(z | x).
      weights: [batch] example weights (the mask).
      kind: "i" (Cov[mu]) or "ii" (E[Sigma] + Cov[mu]).
    Returns:
      [d, d], float32. Moments are weighted means (1 / M, as in the paper), not the
      unbiased 1 / (M - 1).
    """
    # float32 even under bfloat16 mixed precision: batch moments need the digits.
    mean, log_var = mean.astype(jnp.float32), log_var.astype(jnp.float32)
    w = weights.astype(jnp.float32) / jnp.maximum(jnp.sum(weights), 1.0)
    centred = mean - jnp.sum(w[:, None] * mean, axis=0)
    covariance = (w[:, None] * centred).T @ centred
    if kind == "ii":
        covariance = covariance + jnp.diag(jnp.sum(w[:, None] * jnp.exp(log_var), axis=0))
    elif kind != "i":
        raise ValueError(f"config.objective.kind={kind!r}; choose one of {', '.join(KINDS)}.")
    return covariance


def dip_penalty_parts(covariance: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(sum_{i != j} C_ij^2, sum_i (C_ii - 1)^2): scalars, from C [d, d]."""
    diagonal = jnp.diag(covariance)
    off_diagonal = jnp.sum(covariance**2) - jnp.sum(diagonal**2)
    return off_diagonal, jnp.sum((diagonal - 1.0) ** 2)


@register_objective("dip_vae", options=DipVaeOptions)
class DipVaeObjective(Objective):
    """loss = -ELBO + lambda_od * off-diagonal + lambda_d * diagonal (module docstring).

    The ELBO uses one posterior sample (as objective "elbo" with beta = 1); the penalty
    is a batch term, the same for every example of the batch. Needs a VAE with one
    Gaussian latent and the N(0, I) prior. Reported per example: "loss", "elbo", "kl",
    "reconstruction_nll", "dip_off_diagonal" and "dip_diagonal" (the unweighted parts of
    the penalty), "dip_penalty" (weighted), "bits_per_dim" for discrete likelihoods, and
    what the model reports itself.
    """

    model_kind = "latent_variable"

    def __init__(
        self,
        likelihood,
        *,
        kind: str = "i",
        lambda_od: float = 10.0,
        lambda_d: float | None = None,
        **kwargs,
    ):
        super().__init__(likelihood, **kwargs)
        self.kind = kind
        self.lambda_od = lambda_od
        self.lambda_d = _DIAGONAL_FACTOR[kind] * lambda_od if lambda_d is None else lambda_d

    def per_example_terms(
        self, model: nnx.Module, batch: dict, *, rngs: nnx.Rngs | None, train: bool, step: jax.Array
    ) -> tuple[Metrics, jax.Array]:
        require_one_gaussian_latent(model, "dip_vae")
        output, terms, reported_loss = single_sample_elbo_terms(
            model, batch, self.likelihood, rngs=rngs, train=train, objective="dip_vae"
        )
        size = output.code.shape[0]
        covariance = dip_covariance(
            output.encoding.mean.reshape(size, -1),
            output.encoding.log_var.reshape(size, -1),
            example_weights(batch),
            kind=self.kind,
        )
        off_diagonal, diagonal = dip_penalty_parts(covariance)
        penalty = self.lambda_od * off_diagonal + self.lambda_d * diagonal
        nll = terms["reconstruction_nll"]
        terms.update(
            {
                "dip_off_diagonal": jnp.full(nll.shape, off_diagonal),
                "dip_diagonal": jnp.full(nll.shape, diagonal),
                "dip_penalty": jnp.full(nll.shape, penalty),
            }
        )
        terms["loss"] = nll + terms["kl"] + penalty + reported_loss
        return terms, output.decoded
