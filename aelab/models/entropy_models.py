"""The learned probability models of compressive autoencoders: the probability of a
quantized latent, so that the rate (bits) is a differentiable function of the model.

- `FactorizedDensity`: one flexible non-parametric density per channel (Ballé et al.,
  2018, appendix 6.1), the prior of the factorized-prior model and of the hyperprior's
  side information.
- `gaussian_bin_probability`: a zero-mean Gaussian of a given scale, integrated over each
  unit quantization bin, the conditional prior of the scale-hyperprior model.

Both give the probability mass of the unit-width bin around each value:
P(v) = F(v + 1/2) - F(v - 1/2), the density convolved with a unit uniform. During
training the latents carry additive uniform noise, so this is the density the noisy
latents follow; at test time the latents are rounded and it is the probability of the
integer symbol, which the entropy coder spends -log2 P(v) bits on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
from flax import nnx

# The least bin probability the rate counts: keeps -log2 P finite for values far out in
# the tails (the entropy coder's tables give every symbol at least one count too).
LIKELIHOOD_BOUND = 1e-9


class FactorizedDensity(nnx.Module):
    """A learned univariate density per channel: its CDF is
    F(x) = sigmoid(f_K(... f_1(x))), f_k(x) = g_k(H_k x + b_k), g_k(x) = x + a_k tanh(x),
    with H_k = softplus(.) > 0 and a_k = tanh(.) > -1, so F is monotone.

    Args:
      channels: C, one density per channel.
      filters: hidden widths of the per-channel chain (Ballé et al. use (3, 3, 3)).
      init_scale: the initial densities are roughly uniform over [-init_scale,
        init_scale].
    """

    def __init__(
        self,
        channels: int,
        *,
        filters: Sequence[int] = (3, 3, 3),
        init_scale: float = 10.0,
        rngs: nnx.Rngs,
    ):
        widths = (1, *filters, 1)
        scale = init_scale ** (1.0 / (len(widths) - 1))
        matrices, biases, factors = [], [], []
        for i in range(len(widths) - 1):
            init = math.log(math.expm1(1.0 / scale / widths[i + 1]))
            matrices.append(nnx.Param(jnp.full((channels, widths[i + 1], widths[i]), init)))
            shape = (channels, widths[i + 1], 1)
            biases.append(
                nnx.Param(jax.random.uniform(rngs.params(), shape, minval=-0.5, maxval=0.5))
            )
            if i < len(widths) - 2:
                factors.append(nnx.Param(jnp.zeros((channels, widths[i + 1], 1))))
        self.matrices = nnx.List(matrices)
        self.biases = nnx.List(biases)
        self.factors = nnx.List(factors)
        self.channels = channels

    def logits_cdf(self, values: jax.Array) -> jax.Array:
        """The logit of F at `values` [..., C] -> [..., C] (sigmoid of it is the CDF)."""
        shape = values.shape
        x = jnp.moveaxis(values.reshape(-1, self.channels), -1, 0)[:, None, :]  # [C, 1, n]
        for k, (matrix, bias) in enumerate(zip(self.matrices, self.biases, strict=True)):
            x = jnp.matmul(jax.nn.softplus(matrix[...]), x) + bias[...]
            if k < len(self.factors):
                x = x + jnp.tanh(self.factors[k][...]) * jnp.tanh(x)
        return jnp.moveaxis(x[:, 0, :], 0, -1).reshape(shape)

    def bin_probability(self, values: jax.Array) -> jax.Array:
        """P(v) = F(v + 1/2) - F(v - 1/2) per value, [..., C] -> [..., C]."""
        upper = self.logits_cdf(values + 0.5)
        lower = self.logits_cdf(values - 0.5)
        # Computed on the side of the median where the sigmoids are not both near 1, so
        # tail probabilities keep their precision.
        sign = -jnp.sign(upper + lower)
        sign = jnp.where(sign == 0, 1.0, sign)
        probability = jnp.abs(jax.nn.sigmoid(sign * upper) - jax.nn.sigmoid(sign * lower))
        return jnp.maximum(probability, LIKELIHOOD_BOUND)


def gaussian_bin_probability(values: jax.Array, scales: jax.Array) -> jax.Array:
    """P(v) of N(0, scale^2) integrated over [v - 1/2, v + 1/2]; same shapes in and out."""
    values = jnp.abs(values)  # symmetric: the lower tail is computed more precisely
    upper = jax.scipy.special.ndtr((0.5 - values) / scales)
    lower = jax.scipy.special.ndtr((-0.5 - values) / scales)
    return jnp.maximum(upper - lower, LIKELIHOOD_BOUND)


def bits(probability: jax.Array) -> jax.Array:
    """-log2 of probabilities, summed over all but the leading (batch) axis: [batch]."""
    return -jnp.sum(jnp.log2(probability).reshape(probability.shape[0], -1), axis=-1)
