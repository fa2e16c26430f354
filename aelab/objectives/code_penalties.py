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


def jacobian_frobenius_norm_sq(
    fn: Callable[[jax.Array], jax.Array],
    x: jax.Array,
    *,
    projections: int = 0,
    key: jax.Array | None = None,
) -> jax.Array:
    """||d fn(x)_i / d x_i||_F^2 per example.

    With `projections` = 0 it is exact: one vector-Jacobian product per output dimension
    (the rows of J). With `projections` = m > 0 it is Hutchinson's unbiased estimate,
    (1/m) sum_k ||u_k^T J||^2 over m random sign vectors u_k (E[u u^T] = I, so the
    expectation is ||J||_F^2): m vector-Jacobian products instead of d, which is what
    makes a contractive penalty affordable when the code has many dimensions (its
    gradient is then a second-order product through each of them).

    Args:
      fn: maps [batch, *input_shape] -> [batch, d], each example on its own (with
        batch-coupled layers such as batch norm in training mode, the cross-example
        terms are included in the sum: a slight overestimate).
      x: [batch, *input_shape].
      projections: 0 for the exact norm, m > 0 for the m-direction estimate.
      key: the PRNG key of the sign vectors; needed when `projections` > 0.
    Returns:
      [batch].
    """
    y, vjp_fn = jax.vjp(fn, x)
    if projections:
        if key is None:
            raise ValueError(
                "jacobian_frobenius_norm_sq: random projections need a PRNG key; pass "
                "key=..., or projections=0 for the exact norm."
            )
        cotangents = jax.random.rademacher(key, (projections, *y.shape), dtype=y.dtype)
        scale = 1.0 / projections
    else:
        dims = y.shape[-1]
        cotangents = jnp.broadcast_to(jnp.eye(dims, dtype=y.dtype)[:, None, :], (dims, *y.shape))
        scale = 1.0
    (rows,) = jax.vmap(vjp_fn)(cotangents)  # [m or d, batch, *input_shape]
    return scale * jnp.sum(rows**2, axis=tuple(i for i in range(rows.ndim) if i != 1))
