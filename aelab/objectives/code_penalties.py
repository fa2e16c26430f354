"""Penalties on an autoencoder's code: sparsity and contraction."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from aelab.objectives.base import example_weights


def code_l1(code: jax.Array) -> jax.Array:
    """sum_j |z_j| per example: code [batch, d] -> [batch]."""
    return jnp.sum(jnp.abs(code), axis=-1)


def bernoulli_kl(target: float, rate: jax.Array) -> jax.Array:
    """KL(Bernoulli(target) || Bernoulli(rate)), elementwise; rate in (0, 1)."""
    rate = jnp.clip(rate, 1e-6, 1 - 1e-6)
    return target * jnp.log(target / rate) + (1 - target) * jnp.log((1 - target) / (1 - rate))


def sparsity_kl(code: jax.Array, batch: dict, target: float) -> jax.Array:
    """sum_j KL(target || rho_hat_j), rho_hat_j = mean over the batch's real examples of
    sigmoid(z_j) (Ng's sparse-autoencoder penalty on the code read as sigmoid units).

    Args:
      code: [batch, d].
      batch: the batch (its "mask", if any, marks the real examples).
      target: the desired mean activation rho, in (0, 1).
    Returns:
      [batch]: the batch's penalty, repeated for every example (a batch-level term).
    """
    weights = example_weights(batch)
    activations = jax.nn.sigmoid(code)
    rate = jnp.sum(activations * weights[:, None], axis=0) / jnp.maximum(jnp.sum(weights), 1.0)
    return jnp.full(code.shape[:1], jnp.sum(bernoulli_kl(target, rate)))


def jacobian_frobenius_norm_sq(fn: Callable[[jax.Array], jax.Array], x: jax.Array) -> jax.Array:
    """||d fn(x)_i / d x_i||_F^2 per example, exactly, with one vector-Jacobian product per
    output dimension.

    Args:
      fn: maps [batch, *input_shape] -> [batch, d], each example on its own (with
        batch-coupled layers such as batch norm in training mode, the cross-example
        terms are included in the sum: a slight overestimate).
      x: [batch, *input_shape].
    Returns:
      [batch].
    """
    y, vjp_fn = jax.vjp(fn, x)
    dims = y.shape[-1]
    cotangents = jnp.broadcast_to(jnp.eye(dims, dtype=y.dtype)[:, None, :], (dims, *y.shape))
    (rows,) = jax.vmap(vjp_fn)(cotangents)  # [d, batch, *input_shape]: row j of each J
    return jnp.sum(rows**2, axis=tuple(i for i in range(rows.ndim) if i != 1))
