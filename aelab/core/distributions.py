"""Densities shared by models and objectives: Gaussian KL divergences and log-densities.

Neutral ground: a model (a two-layer VAE scoring its own importance weights) and an
objective (the ELBO's KL term) both use these, and neither imports the other."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def gaussian_kl_per_dimension(mean: jax.Array, log_var: jax.Array) -> jax.Array:
    """KL(N(mean, exp(log_var)) || N(0, 1)) of each latent dimension, analytically.

    KL_j = 0.5 * (exp(log_var_j) + mean_j^2 - 1 - log_var_j).

    Args:
      mean, log_var: [batch, *latent_shape].
    Returns:
      [batch, num_latent_dims] (latent dimensions flattened).
    """
    per_dim = 0.5 * (jnp.exp(log_var) + mean**2 - 1.0 - log_var)
    return per_dim.reshape(per_dim.shape[0], -1)


def gaussian_kl_to_standard_normal(mean: jax.Array, log_var: jax.Array) -> jax.Array:
    """KL(N(mean, exp(log_var)) || N(0, I)) per example, analytically.

    KL = 0.5 * sum(exp(log_var) + mean^2 - 1 - log_var).

    Args:
      mean, log_var: [batch, *latent_shape].
    Returns:
      [batch], summed over latent dimensions.
    """
    return gaussian_kl_per_dimension(mean, log_var).sum(axis=-1)


def gaussian_log_density(z: jax.Array, mean: jax.Array, log_var: jax.Array) -> jax.Array:
    """log N(z; mean, exp(log_var)), summed over the last axis: [..., d] -> [...]."""
    return -0.5 * jnp.sum(
        jnp.log(2 * jnp.pi) + log_var + (z - mean) ** 2 * jnp.exp(-log_var), axis=-1
    )


def standard_normal_log_density(z: jax.Array) -> jax.Array:
    """log N(z; 0, I), summed over the last axis: [..., d] -> [...]."""
    return -0.5 * jnp.sum(jnp.log(2 * jnp.pi) + z**2, axis=-1)
