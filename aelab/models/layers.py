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


class DropoutRate(nnx.Variable):
    """A dropout probability kept in the model's state, not in its structure: a vmapped
    population of models (`aelab.sweeps.population`) gives each member its own rate as
    an array, while the models share one graph. Not a parameter: never trained."""


class Dropout(nnx.Module):
    """Inverted dropout whose rate is an array in the model state (see `DropoutRate`).

    Training: keeps each unit with probability 1 - rate and scales it by 1 / (1 - rate);
    the mask's key is `rngs.dropout()`. Evaluation (`deterministic=True`): identity.
    """

    def __init__(self, rate: float):
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"Dropout rate {rate} is outside [0, 1); use e.g. 0.1.")
        self.rate = DropoutRate(jnp.asarray(rate, jnp.float32))

    def __call__(self, x: jax.Array, *, deterministic: bool, rngs: nnx.Rngs | None) -> jax.Array:
        if deterministic:
            return x
        if rngs is None:
            raise ValueError("Dropout in training mode needs rngs.")
        keep = 1.0 - self.rate[...]
        mask = jax.random.bernoulli(rngs.dropout(), keep, x.shape)
        return jnp.where(mask, x / keep, jnp.zeros_like(x))


ACTIVATION_NAMES = tuple(sorted(ACTIVATIONS))


class Decoder(nnx.Module):
    """Base class of decoders: codes [batch, latent_dim] -> [batch, *output_shape].

    `conditions_on_inputs`: whether the decoder also reads the data when reconstructing
    them in training mode (teacher forcing: `decoder(z, train=, rngs=, inputs=x)`);
    `Autoencoder.reconstruct` passes them then.
    """

    conditions_on_inputs: bool = False


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
