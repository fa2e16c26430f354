"""Dense (MLP) encoders and decoders, and their options (`config.model` of the dense_*
models)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import jax
from flax import nnx

from aelab.core.options import option, options_class
from aelab.models.conditional import (
    ConditioningOptions,
    concat_width,
    film_layers,
    modulate,
    with_condition_values,
)
from aelab.models.layers import ACTIVATION_NAMES, Decoder, Dropout, get_activation


@options_class
class DenseOptions(ConditioningOptions):
    """`config.model` of the dense family (with the optional side input of
    `aelab.models.conditional`)."""

    hidden_dims: tuple[int, ...] = option(
        (512, 256),
        "hidden layer sizes from the input side; the decoder mirrors them (may be empty)",
        minimum=1,
    )
    activation: str = option(
        "relu", "activation after each hidden layer", choices=ACTIVATION_NAMES, kind="activation"
    )
    batch_norm: bool = option(False, "batch norm after each hidden linear layer")
    dropout_rate: float = option(
        0.0, "dropout after each hidden activation (0: none)", minimum=0.0, below=1.0
    )


class MLP(nnx.Module):
    """Linear layers with activation, optional batch norm and dropout between them.

    Maps [batch, in_features] -> [batch, out_features]. No activation after the last layer.
    `films` (one `FiLM` per hidden layer, or empty) modulate each hidden layer by the
    condition [batch, condition_dim], after its norm and before its activation.
    """

    def __init__(
        self,
        in_features: int,
        hidden_dims: Sequence[int],
        out_features: int,
        *,
        activation: str = "relu",
        batch_norm: bool = False,
        dropout_rate: float = 0.0,
        films: nnx.List | None = None,
        rngs: nnx.Rngs,
    ):
        self.activation = get_activation(activation)
        self.films = nnx.List([]) if films is None else films
        sizes = [in_features, *hidden_dims]
        self.hidden = nnx.List([nnx.Linear(a, b, rngs=rngs) for a, b in itertools.pairwise(sizes)])
        self.norms = nnx.List(
            [nnx.BatchNorm(b, rngs=rngs) for b in hidden_dims] if batch_norm else []
        )
        self.dropout = Dropout(dropout_rate) if dropout_rate > 0 else None
        self.out = nnx.Linear(sizes[-1], out_features, rngs=rngs)

    def __call__(
        self,
        x: jax.Array,
        *,
        train: bool,
        rngs: nnx.Rngs | None,
        condition: jax.Array | None = None,
    ) -> jax.Array:
        for i, layer in enumerate(self.hidden):
            x = layer(x)
            if self.norms:
                x = self.norms[i](x, use_running_average=not train)
            x = modulate(self.films, i, x, condition)
            x = self.activation(x)
            if self.dropout is not None:
                x = self.dropout(x, deterministic=not train, rngs=rngs)
        return self.out(x)


class DenseEncoder(nnx.Module):
    """Flattens [batch, *input_shape] and maps it to [batch, out_features] (with a
    condition [batch, condition_dim] appended to the flat input, or modulating each
    hidden layer, under `options.conditioning`)."""

    def __init__(
        self,
        input_shape: Sequence[int],
        out_features: int,
        *,
        options: DenseOptions,
        rngs: nnx.Rngs,
    ):
        self.num_input_dims = len(input_shape)
        self.concat_width = concat_width(options)
        self.mlp = MLP(
            math.prod(input_shape) + self.concat_width,
            options.hidden_dims,
            out_features,
            activation=options.activation,
            batch_norm=options.batch_norm,
            dropout_rate=options.dropout_rate,
            films=film_layers(options, options.hidden_dims, rngs=rngs),
            rngs=rngs,
        )

    def __call__(
        self,
        x: jax.Array,
        *,
        train: bool,
        rngs: nnx.Rngs | None,
        condition: jax.Array | None = None,
    ) -> jax.Array:
        x = x.reshape((*x.shape[: x.ndim - self.num_input_dims], -1))
        x = with_condition_values(x, condition, self.concat_width)
        return self.mlp(x, train=train, rngs=rngs, condition=condition)


class DenseDecoder(Decoder):
    """Maps codes [batch, latent_dim] to [batch, *output_shape] (hidden sizes mirrored;
    the condition appended to the code, or modulating each hidden layer, under
    `options.conditioning`)."""

    def __init__(
        self,
        latent_dim: int,
        output_shape: Sequence[int],
        *,
        options: DenseOptions,
        rngs: nnx.Rngs,
    ):
        self.output_shape = tuple(output_shape)
        self.concat_width = concat_width(options)
        hidden = tuple(reversed(options.hidden_dims))
        self.mlp = MLP(
            latent_dim + self.concat_width,
            hidden,
            math.prod(output_shape),
            activation=options.activation,
            batch_norm=options.batch_norm,
            dropout_rate=options.dropout_rate,
            films=film_layers(options, hidden, rngs=rngs),
            rngs=rngs,
        )

    def __call__(
        self,
        z: jax.Array,
        *,
        train: bool,
        rngs: nnx.Rngs | None,
        condition: jax.Array | None = None,
    ) -> jax.Array:
        z = with_condition_values(z, condition, self.concat_width)
        y = self.mlp(z, train=train, rngs=rngs, condition=condition)
        return y.reshape(y.shape[:-1] + self.output_shape)
