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
import jax.numpy as jnp
from flax import nnx

from aelab.objectives.kl import gaussian_log_density, standard_normal_log_density
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
    """log w = log p(x|z) + log p(z) - log q(z|x) for `num_samples` posterior samples.

    Models with more than one stochastic layer provide their own
    `model.log_importance_weights(x, likelihood, rngs=, num_samples=, train=)`; for a
    one-layer Gaussian VAE with a N(0, I) prior this function computes it.

    Args:
      model: a variational model (`encode` returns a Gaussian posterior).
      x: [batch, *data_shape] data (the decoder's targets and the encoder's inputs).
      likelihood: scores decoder outputs against `x`.
      num_samples: k.
    Returns:
      [num_samples, batch] log weights.
    """
    if hasattr(model, "log_importance_weights"):
        return model.log_importance_weights(
            x, likelihood, rngs=rngs, num_samples=num_samples, train=train
        )
    encoding = model.encode(x, train=train, rngs=rngs)
    z = model.sample_posterior(encoding, rngs, num_samples)  # [k, batch, latent]
    k, batch = z.shape[:2]
    decoded = model.decode(z.reshape(k * batch, *z.shape[2:]), train=train, rngs=rngs)
    targets = jnp.broadcast_to(x, (k, *x.shape)).reshape(k * batch, *x.shape[1:])
    log_px_z = likelihood.log_prob(decoded, targets).reshape(k, batch)
    flat_z = z.reshape(k, batch, -1)
    log_pz = standard_normal_log_density(flat_z)
    log_qz = gaussian_log_density(
        flat_z,
        encoding.mean.reshape(batch, -1),
        encoding.log_var.reshape(batch, -1),
    )
    return log_px_z + log_pz - log_qz


def iwae_bound(log_weights: jax.Array) -> jax.Array:
    """logsumexp(log_weights, axis=0) - log k: [k, batch] -> [batch]."""
    k = log_weights.shape[0]
    return jax.nn.logsumexp(log_weights, axis=0) - math.log(k)
