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
