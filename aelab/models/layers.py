"""Small building blocks shared by the model families."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from flax import nnx

ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "relu": jax.nn.relu,
    "gelu": jax.nn.gelu,
    "silu": jax.nn.silu,
    "swish": jax.nn.silu,
    "elu": jax.nn.elu,
    "leaky_relu": jax.nn.leaky_relu,
    "tanh": jnp.tanh,
    "softplus": jax.nn.softplus,
    "sigmoid": jax.nn.sigmoid,
}


def get_activation(name: str) -> Callable[[jax.Array], jax.Array]:
    """Returns the activation function called `name`; the error lists valid names."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"Unknown activation {name!r}. Valid activations: {', '.join(sorted(ACTIVATIONS))}."
        ) from None


NORMS = ("group", "batch", "none")


class Norm(nnx.Module):
    """A normalisation layer chosen by name, with one call signature for all kinds.

    "group": GroupNorm over `num_groups` channel groups (per example: independent of the
    batch, so training and evaluation compute the same function); "batch": BatchNorm
    (batch statistics in training, running averages in evaluation; under the sharded
    train step the statistics are those of the global batch); "none": identity.
    Input [..., channels].
    """

    def __init__(self, kind: str, channels: int, *, num_groups: int = 8, rngs: nnx.Rngs):
        if kind not in NORMS:
            raise ValueError(
                f"config.model.norm={kind!r} is not valid; choose one of {', '.join(NORMS)}."
            )
        self.kind = kind
        if kind == "group":
            groups = min(num_groups, channels)
            if channels % groups:
                raise ValueError(
                    f"GroupNorm needs channels divisible by the number of groups: {channels} "
                    f"channels, {groups} groups. Change config.model.num_groups or the channels."
                )
            self.layer = nnx.GroupNorm(channels, num_groups=groups, rngs=rngs)
        elif kind == "batch":
            self.layer = nnx.BatchNorm(channels, rngs=rngs)
        else:
            self.layer = None

    def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
        if self.kind == "batch":
            return self.layer(x, use_running_average=not train)
        if self.kind == "group":
            return self.layer(x)
        return x


def upsample_nearest(x: jax.Array, factor: int = 2) -> jax.Array:
    """Nearest-neighbour upsampling of [..., H, W, C] to [..., factor*H, factor*W, C]."""
    return jnp.repeat(jnp.repeat(x, factor, axis=-3), factor, axis=-2)
