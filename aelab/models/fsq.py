"""Finite scalar quantisation (FSQ; Mentzer et al., 2023, "Finite Scalar Quantization:
VQ-VAE Made Simple").

Each of the d = len(levels) values of a code vector is bounded to the interval of its
L_i levels and rounded, with straight-through gradients: the codebook is implicit, the
grid of prod(levels) points, with nothing to learn and no auxiliary loss. The bound is
the paper's f(z) = tanh(z + shift) * h - offset with h = (L - 1)(1 - eps) / 2; for an
even L, offset = 1/2 and shift = atanh(offset / h) put the L rounding cells
symmetrically around 0 (outputs k - L // 2, k = 0..L-1). The rounded values are
divided by L // 2, so codes lie in [-1, 1]. Levels start at 3: for L = 2 the even-level
shift atanh(1/2 / h) does not exist (h < 1/2).

With `normalize` (the default), each example's pre-quantisation values are divided by
their root mean square (over all its code vectors) before the bound. Without it, FSQ
has no loss that holds the encoder's outputs near the grid (VQ's commitment loss does),
and an unnormalised final layer trained with Adam drifts to |z| >> 1 in a few dozen
steps: the tanh saturates, every vector lands on a corner of the grid and the
straight-through gradient (scaled by tanh' ~ 0) cannot bring it back. On MNIST
(configs/mnist_fsq.py) that was a collapse to 11 of 1,000 codes. The paper's encoders
end in a normalisation layer (VQGAN/MaskGIT: GroupNorm, SiLU, conv), which keeps the
values O(1); RMS normalisation makes the bound's input scale-free in the same way.

Options (`config.model`): `FSQOptions` (and `CodeOptions`: code_dim = len(levels)).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from aelab.core.options import option, options_class
from aelab.models.vq import CodeOptions, usage_metrics

_BOUND_EPSILON = 1e-3


@options_class
class FSQOptions(CodeOptions):
    """`config.model` options of finite scalar quantisation (quantizer "fsq")."""

    levels: tuple[int, ...] = option(
        (8, 5, 5, 5), "fsq: levels per value of a code vector (len = code_dim)", minimum=3
    )
    normalize: bool = option(
        True, "fsq: divide each example's pre-quantisation values by their RMS before the bound"
    )

    def check(self):
        yield from CodeOptions.check(self)
        if len(self.levels) != self.code_dim:
            yield (
                "levels",
                f"must have code_dim={self.code_dim} entries (one per value of a code vector)",
            )


def round_straight_through(x: jax.Array) -> jax.Array:
    """round(x) forward, identity gradient backward."""
    return x + jax.lax.stop_gradient(jnp.round(x) - x)


class FiniteScalarQuantizer(nnx.Module):
    """FSQ of [batch, num_vectors, d] to the grid of `levels` (d = len(levels))."""

    num_stages = 1

    def __init__(self, levels: tuple[int, ...], *, normalize: bool = False):
        if min(levels) < 3:
            raise ValueError(f"config.model.levels={tuple(levels)}: every level must be >= 3.")
        self.levels = tuple(int(level) for level in levels)
        self.normalize = normalize
        self.code_dim = len(self.levels)
        self.codebook_size = math.prod(self.levels)
        # Mixed-radix place values: index = sum_i digit_i * prod(levels[:i]).
        self._basis = tuple(int(b) for b in np.cumprod((1, *self.levels[:-1])))

    def bound(self, z: jax.Array) -> jax.Array:
        """z [..., d] -> values in (-L_i // 2 - 1/2, L_i // 2 + 1/2) that round to the
        L_i integers k - L_i // 2."""
        levels = jnp.asarray(self.levels, z.dtype)
        half = (levels - 1) * (1 - _BOUND_EPSILON) / 2
        offset = jnp.where(levels % 2 == 0, 0.5, 0.0)
        shift = jnp.arctanh(offset / half)
        return jnp.tanh(z + shift) * half - offset

    def quantize(self, z: jax.Array) -> jax.Array:
        """z [..., d] -> codes on the grid, in [-1, 1], straight-through: [..., d]."""
        half_width = jnp.asarray([level // 2 for level in self.levels], z.dtype)
        return round_straight_through(self.bound(z)) / half_width

    def codes_to_indices(self, codes: jax.Array) -> jax.Array:
        """Grid codes [..., d] -> indices [...] int32 in [0, prod(levels))."""
        half_width = jnp.asarray([level // 2 for level in self.levels], codes.dtype)
        digits = jnp.round(codes * half_width + half_width).astype(jnp.int32)
        return jnp.sum(digits * jnp.asarray(self._basis, jnp.int32), axis=-1)

    def indices_to_codes(self, indices: jax.Array) -> jax.Array:
        """Indices [...] int -> grid codes [..., d] (the inverse of `codes_to_indices`)."""
        levels = jnp.asarray(self.levels, jnp.int32)
        digits = (indices[..., None] // jnp.asarray(self._basis, jnp.int32)) % levels
        half_width = jnp.asarray([level // 2 for level in self.levels], jnp.float32)
        return (digits - half_width) / half_width

    def __call__(
        self, z_e: jax.Array, *, train: bool, rngs: nnx.Rngs | None
    ) -> tuple[jax.Array, jax.Array, dict, dict]:
        """Quantises z_e [batch, num_vectors, d]: (codes [batch, num_vectors, d], indices
        [batch, num_vectors], no losses, usage metrics {name: [batch]})."""
        del train, rngs  # FSQ has no state and no randomness.
        if self.normalize:
            z_e = z_e * jax.lax.rsqrt(jnp.mean(z_e**2, axis=(1, 2), keepdims=True) + 1e-6)
        z_q = self.quantize(z_e)
        indices = self.codes_to_indices(jax.lax.stop_gradient(z_q))
        return z_q, indices, {}, usage_metrics(indices, self.codebook_size)


def build_fsq(options: FSQOptions, rngs: nnx.Rngs) -> FiniteScalarQuantizer:
    """The `FiniteScalarQuantizer` of the model's options."""
    del rngs
    return FiniteScalarQuantizer(options.levels, normalize=options.normalize)
