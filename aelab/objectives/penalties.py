"""Weight penalties added to an objective's loss."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def _weight_matrices(params) -> list[jax.Array]:
    # Kernels only: penalising biases and normalisation scales is not the usual practice.
    return [p for p in jax.tree.leaves(params) if p.ndim > 1]


def l2_penalty(params) -> jax.Array:
    """0.5 * sum of squared kernel weights (biases and norm scales excluded): scalar."""
    return 0.5 * sum((jnp.sum(w**2) for w in _weight_matrices(params)), jnp.zeros(()))


def l1_penalty(params) -> jax.Array:
    """Sum of absolute kernel weights (biases and norm scales excluded): scalar."""
    return sum((jnp.sum(jnp.abs(w)) for w in _weight_matrices(params)), jnp.zeros(()))
