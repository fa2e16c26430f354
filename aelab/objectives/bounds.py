"""Importance-weighted bounds on log p(x) for latent-variable models.

With k samples z_i ~ q(z | x), the log importance weights are
log w_i = log p(x | z_i) + log p(z_i) - log q(z_i | x), and

    IWAE_k(x) = logsumexp_i(log w_i) - log k  <=  log p(x),

with IWAE_1 = the ELBO (in expectation) and IWAE_k increasing to log p(x) as k grows
(Burda et al., 2016). The importance-sampled negative log-likelihood estimate used in
evaluation is -IWAE_k for large k.
"""

from __future__ import annotations

import math

import jax
from flax import nnx

from aelab.core.contract import require_latent_variable_model
from aelab.objectives.likelihoods import Likelihood


def log_importance_weights(
    model: nnx.Module,
    x: jax.Array,
    likelihood: Likelihood,
    *,
    rngs: nnx.Rngs,
    num_samples: int,
    train: bool = False,
) -> jax.Array:
    """log w = log p(x, z) - log q(z|x) for `num_samples` joint posterior samples:
    the model's `log_importance_weights` hook (`aelab.core.contract`), after checking
    that it is a latent-variable model.

    Args:
      model: a latent-variable model.
      x: [batch, *data_shape] data (the decoder's targets and the encoder's inputs).
      likelihood: scores decoder outputs against `x`.
      num_samples: k.
    Returns:
      [num_samples, batch] log weights.
    """
    require_latent_variable_model(model, "Importance sampling")
    return model.log_importance_weights(
        x, likelihood, rngs=rngs, num_samples=num_samples, train=train
    )


def iwae_bound(log_weights: jax.Array) -> jax.Array:
    """logsumexp(log_weights, axis=0) - log k: [k, batch] -> [batch]."""
    k = log_weights.shape[0]
    return jax.nn.logsumexp(log_weights, axis=0) - math.log(k)
