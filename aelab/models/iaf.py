"""Inverse autoregressive flow posteriors (Kingma et al., 2016, "Improved variational
inference with inverse autoregressive flow").

The encoder gives a diagonal Gaussian (mean, log_var) and a context h. A sample starts
as z_0 = mean + exp(log_var / 2) * eps and goes through T steps

    [m, s] = MADE_t(z_{t-1}, h),  sigma = sigmoid(s),  z_t = sigma * z_{t-1} + (1 - sigma) * m,

where MADE_t is autoregressive: m_i and s_i depend on z_j for j before i in step t's
order (the natural order in even steps, reversed in odd ones, so that every unit comes
early in some step). The Jacobian of each step is triangular with diagonal sigma, so

    log q(z_T | x) = log N(eps; 0, I) - sum_i log_var_i / 2 - sum_t sum_i log sigma_t,i.

The gated update is the paper's numerically stable form; s starts biased at
`_SIGMA_BIAS` so that sigma is close to 1 and each step starts near the identity (the
paper's advice).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
from flax import nnx

_SIGMA_BIAS = 2.0  # sigmoid(2) ~ 0.88


def made_degrees(
    latent_dim: int, hidden_dims: Sequence[int], *, reverse: bool
) -> tuple[tuple[int, ...], ...]:
    """MADE degrees (Germain et al., 2015) of the input and every hidden layer.

    Input unit i has degree i + 1 (or latent_dim - i with `reverse`); hidden units get
    degrees 1 .. latent_dim - 1 in turn (0 when latent_dim is 1: they see only the
    context). A unit may read a unit of the layer below whose degree is <= its own; an
    output of degree d reads hidden units of degree < d.

    Returns:
      (input degrees, hidden degrees of each layer...), tuples of ints.
    """
    inputs = tuple(latent_dim - i if reverse else i + 1 for i in range(latent_dim))
    span = latent_dim - 1
    hidden = tuple(
        tuple((k % span) + 1 if span else 0 for k in range(width)) for width in hidden_dims
    )
    return (inputs, *hidden)


class MaskedLinear(nnx.Module):
    """y = x @ (kernel * mask) + bias, the mask fixed by degrees: [..., in] -> [..., out].

    The degrees are Python tuples (static), so the mask is a constant of the compiled
    function and not a state variable.
    """

    def __init__(
        self,
        in_degrees: Sequence[int],
        out_degrees: Sequence[int],
        *,
        strict: bool,
        rngs: nnx.Rngs,
        bias: jax.Array | None = None,
    ):
        self.in_degrees, self.out_degrees, self.strict = (
            tuple(in_degrees),
            tuple(out_degrees),
            strict,
        )
        shape = (len(in_degrees), len(out_degrees))
        self.kernel = nnx.Param(nnx.initializers.lecun_normal()(rngs.params(), shape))
        self.bias = nnx.Param(jnp.zeros(shape[1]) if bias is None else bias)

    def mask(self) -> jax.Array:
        """[in, out] 0/1: out may read in."""
        inputs = jnp.asarray(self.in_degrees)[:, None]
        outputs = jnp.asarray(self.out_degrees)[None, :]
        allowed = outputs > inputs if self.strict else outputs >= inputs
        return allowed.astype(jnp.float32)

    def __call__(self, x: jax.Array) -> jax.Array:
        return x @ (self.kernel[...] * self.mask()) + self.bias[...]


class IAFStep(nnx.Module):
    """One IAF step: an ELU MADE over z [..., d] with the context h [..., context_dim]
    added to its first hidden layer; returns (z_new [..., d], log sigma [..., d])."""

    def __init__(
        self,
        latent_dim: int,
        hidden_dims: Sequence[int],
        context_dim: int,
        *,
        reverse: bool,
        rngs: nnx.Rngs,
    ):
        degrees = made_degrees(latent_dim, hidden_dims, reverse=reverse)
        self.hidden = nnx.List(
            [MaskedLinear(a, b, strict=False, rngs=rngs) for a, b in itertools.pairwise(degrees)]
        )
        self.context = nnx.Linear(context_dim, hidden_dims[0], rngs=rngs)
        bias = jnp.concatenate([jnp.zeros(latent_dim), jnp.full(latent_dim, _SIGMA_BIAS)])
        self.out = MaskedLinear(degrees[-1], degrees[0] * 2, strict=True, rngs=rngs, bias=bias)

    def __call__(self, z: jax.Array, h: jax.Array) -> tuple[jax.Array, jax.Array]:
        x = z
        for i, layer in enumerate(self.hidden):
            x = layer(x) + (self.context(h) if i == 0 else 0.0)
            x = jax.nn.elu(x)
        m, s = jnp.split(self.out(x), 2, axis=-1)
        sigma = jax.nn.sigmoid(s)
        return sigma * z + (1.0 - sigma) * m, jax.nn.log_sigmoid(s)


class InverseAutoregressiveFlow(nnx.Module):
    """T IAF steps, alternating the autoregressive order.

    `__call__(z0, h)` maps z0 [..., d] and the context h [..., context_dim] (broadcast
    against z0's leading axes) to (z_T [..., d], sum of log sigma over steps and units
    [...]), the flow's log |det dz_T / dz_0|.
    """

    def __init__(
        self,
        latent_dim: int,
        num_steps: int,
        hidden_dims: Sequence[int],
        context_dim: int,
        *,
        rngs: nnx.Rngs,
    ):
        self.context_dim = context_dim
        self.steps = nnx.List(
            [
                IAFStep(latent_dim, hidden_dims, context_dim, reverse=t % 2 == 1, rngs=rngs)
                for t in range(num_steps)
            ]
        )

    def __call__(self, z: jax.Array, h: jax.Array) -> tuple[jax.Array, jax.Array]:
        log_det = jnp.zeros(z.shape[:-1], z.dtype)
        for step in self.steps:
            z, log_sigma = step(z, h)
            log_det = log_det + log_sigma.sum(axis=-1)
        return z, log_det
