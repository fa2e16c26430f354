"""Recurrent (LSTM or GRU) sequence-to-sequence encoders and decoders for time series
[batch, time, channels], e.g. ECG5000 heartbeats [140, 1].

The encoder runs stacked recurrent layers over the sequence and maps the last hidden
state to the code (Srivastava et al., 2015). The decoder sets its initial states from
the code and emits one step at a time, with the code as input at every step. With
`teacher_forcing=True` each step also sees the previous value of the series: the
ground truth when reconstructing the training inputs, its own previous prediction in
evaluation and when decoding a code alone (the encoder-decoder anomaly detector of
Malhotra et al., 2016 is trained this way). Predictions are fed back through the
decoder's first `channels` outputs, which are the means under the Gaussian and MSE
likelihoods: use one of those with teacher forcing.

Options (`config.model`): `RecurrentOptions` below. The cell ("lstm" or "gru") is fixed
by the registered model name.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
from flax import nnx

from aelab.core.options import option, options_class
from aelab.models.layers import Decoder
from aelab.models.registry import ModelOptions

CELLS = {"lstm": nnx.OptimizedLSTMCell, "gru": nnx.GRUCell}


@options_class
class RecurrentOptions(ModelOptions):
    """`config.model` of the lstm and gru families."""

    hidden_size: int = option(64, "units per recurrent layer", minimum=1)
    num_layers: int = option(1, "stacked recurrent layers", minimum=1)
    teacher_forcing: bool = option(
        False,
        "the decoder also sees the previous true value in training (its own prediction "
        "in evaluation); use a Gaussian or MSE likelihood with it",
    )


def _check_series(shape: Sequence[int]) -> None:
    if len(shape) != 2:
        raise ValueError(
            f"Recurrent models take series [time, channels]; got examples of shape "
            f"{tuple(shape)}. Use config.data.flatten=False and a time-series data set "
            "such as ecg5000."
        )


def _make_cell(kind: str, in_features: int, hidden: int, rngs: nnx.Rngs) -> nnx.Module:
    if kind not in CELLS:
        raise ValueError(f"Unknown recurrent cell {kind!r}; valid cells: {', '.join(CELLS)}.")
    return CELLS[kind](in_features, hidden, rngs=rngs)


def _zero_carry(kind: str, batch: int, hidden: int):
    h = jnp.zeros((batch, hidden))
    return (h, h) if kind == "lstm" else h


def _last_hidden(kind: str, carry) -> jax.Array:
    return carry[1] if kind == "lstm" else carry


def _carry_from(kind: str, values: jax.Array):
    """A cell's carry from [batch, carry_size * hidden] values (LSTM: memory and hidden)."""
    return tuple(jnp.split(values, 2, axis=-1)) if kind == "lstm" else values


class RecurrentEncoder(nnx.Module):
    """[batch, T, C] -> [batch, out_features]: the last hidden state of stacked cells,
    through a linear map."""

    def __init__(
        self,
        input_shape: Sequence[int],
        out_features: int,
        *,
        options: RecurrentOptions,
        rngs: nnx.Rngs,
        cell: str = "lstm",
    ):
        _check_series(input_shape)
        self.kind = cell
        self.hidden = options.hidden_size
        sizes = [input_shape[-1]] + [self.hidden] * options.num_layers
        self.cells = nnx.List([_make_cell(cell, a, b, rngs) for a, b in itertools.pairwise(sizes)])
        self.out = nnx.Linear(self.hidden, out_features, rngs=rngs)

    def __call__(self, x: jax.Array, *, train: bool, rngs: nnx.Rngs | None) -> jax.Array:
        sequence = jnp.swapaxes(x, 0, 1)  # time-major [T, b, C] for lax.scan
        carry = None
        for cell in self.cells:
            graphdef, state = nnx.split(cell)

            def step(carry, x_t, graphdef=graphdef, state=state):
                return nnx.merge(graphdef, state)(carry, x_t)

            carry, sequence = jax.lax.scan(
                step, _zero_carry(self.kind, x.shape[0], self.hidden), sequence
            )
        return self.out(_last_hidden(self.kind, carry))


class RecurrentDecoder(Decoder):
    """[batch, latent_dim] -> [batch, T, out_channels], one step at a time."""

    def __init__(
        self,
        latent_dim: int,
        output_shape: Sequence[int],
        *,
        options: RecurrentOptions,
        rngs: nnx.Rngs,
        input_shape: Sequence[int],
        cell: str = "lstm",
    ):
        _check_series(output_shape)
        self.kind = cell
        self.length, out_channels = output_shape
        self.hidden = options.hidden_size
        self.num_layers = options.num_layers
        self.conditions_on_inputs = options.teacher_forcing
        self.data_channels = input_shape[-1] if self.conditions_on_inputs else 0
        carry_size = 2 if cell == "lstm" else 1
        self.initial_state = nnx.Linear(
            latent_dim, self.num_layers * carry_size * self.hidden, rngs=rngs
        )
        sizes = [latent_dim + self.data_channels] + [self.hidden] * self.num_layers
        self.cells = nnx.List([_make_cell(cell, a, b, rngs) for a, b in itertools.pairwise(sizes)])
        self.out = nnx.Linear(self.hidden, out_channels, rngs=rngs)

    def __call__(
        self,
        z: jax.Array,
        *,
        train: bool,
        rngs: nnx.Rngs | None,
        inputs: jax.Array | None = None,
    ) -> jax.Array:
        """Decodes codes z [b, latent]; `inputs` [b, T, C] are the teacher's series (a
        step sees the previous true value) or None (it sees its own prediction)."""
        batch = z.shape[0]
        states = jnp.tanh(self.initial_state(z))
        carries = tuple(
            _carry_from(self.kind, part) for part in jnp.split(states, self.num_layers, axis=-1)
        )
        if inputs is None:
            previous_values = jnp.zeros((self.length, batch, self.data_channels))
        else:
            series = jnp.swapaxes(inputs, 0, 1)
            previous_values = jnp.concatenate([jnp.zeros_like(series[:1]), series[:-1]])
        graphdef, state = nnx.split(nnx.List([*self.cells, self.out]))
        teacher = inputs is not None

        def step(carry, given_previous):
            carries, predicted = carry
            *cells, out = nnx.merge(graphdef, state)
            previous = given_previous if teacher else predicted[..., : self.data_channels]
            h = jnp.concatenate([z, previous], axis=-1)
            new_carries = []
            for cell, cell_carry in zip(cells, carries, strict=True):
                cell_carry, h = cell(cell_carry, h)
                new_carries.append(cell_carry)
            y = out(h)
            return (tuple(new_carries), y), y

        start = (carries, jnp.zeros((batch, self.out.out_features)))
        _, outputs = jax.lax.scan(step, start, previous_values)
        return jnp.swapaxes(outputs, 0, 1)
