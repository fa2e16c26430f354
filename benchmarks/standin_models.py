"""A residual conv VAE and an LSTM autoencoder for the benchmarks, built from aelab parts.

The benchmark measures these two models, registered under benchmark-only names
(`bench_residual_vae`, `bench_lstm_ae`) when this module is imported, rather than the
zoo's `resnet` and `recurrent` families, because each must match its PyTorch twin in
`torch_models.py` layer for layer (the zoo's models have options, normalisation and
widths of their own). They use the library's layers (`aelab.models.convolutions`), model
wrappers, objectives and train step, so the numbers are the library's; only the
architecture lives here.
"""

from __future__ import annotations

import itertools
import math

import jax
from flax import nnx

from aelab.core.options import option, options_class
from aelab.models.autoencoder import Autoencoder, GaussianVAE
from aelab.models.conv import downsampled_size
from aelab.models.convolutions import StrideTwoConvTranspose, conv_layer
from aelab.models.layers import Decoder
from aelab.models.registry import MODELS, ModelOptions, register_model


@options_class
class BenchResidualOptions(ModelOptions):
    """`config.model` of bench_residual_vae."""

    channels: tuple[int, ...] = option((32, 64), "channels of each stride-2 stage", minimum=1)


@options_class
class BenchLstmOptions(ModelOptions):
    """`config.model` of bench_lstm_ae."""

    hidden_size: int = option(64, "units of the encoder's and the decoder's LSTM", minimum=1)


class ResidualBlock(nnx.Module):
    """x + conv3x3(relu(conv3x3(relu(x)))), channels unchanged: [b, h, w, c] -> same."""

    def __init__(self, channels: int, *, rngs: nnx.Rngs):
        self.conv1 = conv_layer(channels, channels, (3, 3), padding="SAME", rngs=rngs)
        self.conv2 = conv_layer(channels, channels, (3, 3), padding="SAME", rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        return x + self.conv2(jax.nn.relu(self.conv1(jax.nn.relu(x))))


class ResidualEncoder(nnx.Module):
    """[b, H, W, C] -> [b, out]: per stage a stride-2 3x3 conv then a residual block."""

    def __init__(self, input_shape, out_features: int, *, config, rngs: nnx.Rngs):
        height, width, channels = input_shape
        sizes = [channels, *config.channels]
        self.downs = nnx.List(
            [
                conv_layer(a, b, (3, 3), strides=2, padding="SAME", rngs=rngs)
                for a, b in itertools.pairwise(sizes)
            ]
        )
        self.blocks = nnx.List([ResidualBlock(c, rngs=rngs) for c in config.channels])
        stages = len(config.channels)
        flat = downsampled_size(height, stages) * downsampled_size(width, stages) * sizes[-1]
        self.out = nnx.Linear(flat, out_features, rngs=rngs)

    def __call__(self, x: jax.Array, *, train: bool, rngs) -> jax.Array:
        for down, block in zip(self.downs, self.blocks, strict=True):
            x = block(down(x))
        return self.out(jax.nn.relu(x).reshape(x.shape[0], -1))


class ResidualDecoder(Decoder):
    """[b, latent] -> [b, H, W, C]: per stage a residual block then a stride-2 transposed
    conv (computed as subpixel), then a 3x3 conv to the output channels."""

    def __init__(self, latent_dim: int, output_shape, *, config, rngs: nnx.Rngs):
        height, width, channels = output_shape
        widths = list(reversed(config.channels))
        stages = len(widths)
        self.start = (downsampled_size(height, stages), downsampled_size(width, stages), widths[0])
        self.output_hw = (height, width)
        self.project = nnx.Linear(latent_dim, math.prod(self.start), rngs=rngs)
        self.blocks = nnx.List([ResidualBlock(c, rngs=rngs) for c in widths])
        outs = [*widths[1:], widths[-1]]
        self.ups = nnx.List(
            [
                StrideTwoConvTranspose(a, b, 3, method="subpixel", rngs=rngs)
                for a, b in zip(widths, outs, strict=True)
            ]
        )
        self.out = conv_layer(outs[-1], channels, (3, 3), padding="SAME", rngs=rngs)

    def __call__(self, z: jax.Array, *, train: bool, rngs) -> jax.Array:
        x = self.project(z).reshape(z.shape[:-1] + self.start)
        for block, up in zip(self.blocks, self.ups, strict=True):
            x = up(block(x))
        height, width = self.output_hw
        return self.out(jax.nn.relu(x))[..., :height, :width, :]


class LstmEncoder(nnx.Module):
    """[b, T, C] -> [b, out]: an LSTM over time, its last output through a linear map."""

    def __init__(self, input_shape, out_features: int, *, config, rngs: nnx.Rngs):
        cell = nnx.OptimizedLSTMCell(input_shape[-1], config.hidden_size, rngs=rngs)
        self.rnn = nnx.RNN(cell)
        self.out = nnx.Linear(config.hidden_size, out_features, rngs=rngs)

    def __call__(self, x: jax.Array, *, train: bool, rngs) -> jax.Array:
        return self.out(self.rnn(x)[:, -1])


class LstmDecoder(Decoder):
    """[b, latent] -> [b, T, C]: the code fed at every time step to an LSTM, whose outputs
    a linear map turns into each step's values."""

    def __init__(self, latent_dim: int, output_shape, *, config, rngs: nnx.Rngs):
        self.length = output_shape[0]
        cell = nnx.OptimizedLSTMCell(latent_dim, config.hidden_size, rngs=rngs)
        self.rnn = nnx.RNN(cell)
        self.out = nnx.Linear(config.hidden_size, output_shape[-1], rngs=rngs)

    def __call__(self, z: jax.Array, *, train: bool, rngs) -> jax.Array:
        steps = jax.numpy.broadcast_to(z[:, None, :], (z.shape[0], self.length, z.shape[-1]))
        return self.out(self.rnn(steps))


def _build_residual_vae(config, input_shape, output_shape, rngs):
    latent = config.latent_dim
    return GaussianVAE(
        ResidualEncoder(input_shape, 2 * latent, config=config, rngs=rngs),
        ResidualDecoder(latent, output_shape, config=config, rngs=rngs),
        latent,
    )


def _build_lstm_ae(config, input_shape, output_shape, rngs):
    latent = config.latent_dim
    return Autoencoder(
        LstmEncoder(input_shape, latent, config=config, rngs=rngs),
        LstmDecoder(latent, output_shape, config=config, rngs=rngs),
        latent,
    )


if "bench_residual_vae" not in MODELS.names():
    register_model(
        "bench_residual_vae",
        options=BenchResidualOptions,
        tiny_fields={"channels": (8, 16), "latent_dim": 4},
        objective="elbo",
    )(_build_residual_vae)
    register_model(
        "bench_lstm_ae",
        options=BenchLstmOptions,
        tiny_fields={"hidden_size": 8, "latent_dim": 4},
        tiny_input_shape=(16, 1),
    )(_build_lstm_ae)
