"""Generalized divisive normalization (Ballé et al., 2016), the nonlinearity of learned
image codecs' analysis transforms, and its inverse for the synthesis transforms."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

# Parameters are stored as square roots (plus a pedestal) so that beta and gamma stay
# non-negative under unconstrained gradient steps, as in tensorflow_compression.
_PEDESTAL = 2.0**-18
_BETA_MIN = 1e-6


def _nonnegative(value: jax.Array, minimum: float) -> jax.Array:
    bound = jnp.sqrt(minimum + _PEDESTAL)
    return jnp.square(jnp.maximum(value, bound)) - _PEDESTAL


class GDN(nnx.Module):
    """y_i = x_i / sqrt(beta_i + sum_j gamma_ij x_j^2) over the channels of each position.

    [..., channels] -> [..., channels]. `inverse=True` multiplies instead (IGDN, the
    approximate inverse used in synthesis transforms). Initialised to beta = 1 and
    gamma = 0.1 I, near the identity scaled down.
    """

    def __init__(self, channels: int, *, inverse: bool = False):
        self.inverse = inverse
        self.beta = nnx.Param(jnp.sqrt(jnp.ones((channels,)) + _PEDESTAL))
        self.gamma = nnx.Param(jnp.sqrt(0.1 * jnp.eye(channels) + _PEDESTAL))

    def __call__(self, x: jax.Array) -> jax.Array:
        beta = _nonnegative(self.beta[...], _BETA_MIN)
        gamma = _nonnegative(self.gamma[...], 0.0)
        norm = jnp.sqrt(jnp.square(x) @ gamma.T + beta)
        return x * norm if self.inverse else x / norm
