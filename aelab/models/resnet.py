"""Residual encoders and decoders for images [batch, height, width, channels].

Pre-activation residual blocks (He et al., 2016, "Identity mappings in deep residual
networks": norm -> activation -> conv, twice, added to the input) in stages of
`config.channels`; between stages the encoder halves the resolution with a stride-2
convolution and the decoder doubles it with nearest-neighbour upsampling and a 3x3
convolution (as in VDVAE and NVAE decoders: regular convolutions only, no checkerboard
artefacts). This is the shape of a modern VAE encoder/decoder, at small scale.

Options (`config.model`): `ResNetOptions` below.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import jax
from flax import nnx

from aelab.core.options import option, options_class
from aelab.models.conv import downsampled_size, image_shape_of
from aelab.models.layers import (
    ACTIVATION_NAMES,
    NORMS,
    Decoder,
    Norm,
    get_activation,
    upsample_nearest,
)
from aelab.models.registry import ModelOptions


@options_class
class ResNetOptions(ModelOptions):
    """`config.model` of the resnet family."""

    channels: tuple[int, ...] = option(
        (32, 64),
        "channels per stage from the input side; len(channels) - 1 resolution halvings",
        minimum=1,
        min_length=1,
    )
    blocks_per_stage: int = option(1, "residual blocks in each stage", minimum=0)
    norm: str = option("group", "normalisation in the blocks", choices=NORMS)
    num_groups: int = option(8, "GroupNorm groups (at most the channels)", minimum=1)
    activation: str = option(
        "silu", "activation in the blocks", choices=ACTIVATION_NAMES, kind="activation"
    )
    dropout_rate: float = option(
        0.0, "dropout between the two convolutions of a block", minimum=0.0, below=1.0
    )


class ResidualBlock(nnx.Module):
    """x + conv(act(norm(conv(act(norm(x)))))) at constant channels: [b, H, W, C]."""

    def __init__(self, channels: int, *, options: ResNetOptions, rngs: nnx.Rngs):
        norm, groups = options.norm, options.num_groups
        self.activation = get_activation(options.activation)
        self.norm1 = Norm(norm, channels, num_groups=groups, rngs=rngs)
        self.conv1 = nnx.Conv(channels, channels, (3, 3), padding="SAME", rngs=rngs)
        self.norm2 = Norm(norm, channels, num_groups=groups, rngs=rngs)
        self.conv2 = nnx.Conv(channels, channels, (3, 3), padding="SAME", rngs=rngs)
        rate = options.dropout_rate
        self.dropout = nnx.Dropout(rate) if rate > 0 else None

    def __call__(self, x: jax.Array, *, train: bool, rngs: nnx.Rngs | None) -> jax.Array:
        h = self.conv1(self.activation(self.norm1(x, train=train)))
        if self.dropout is not None:
            h = self.dropout(h, deterministic=not train, rngs=rngs)
        h = self.conv2(self.activation(self.norm2(h, train=train)))
        return x + h


def residual_stages(channels: Sequence[int], options: ResNetOptions, rngs: nnx.Rngs) -> nnx.List:
    """`options.blocks_per_stage` residual blocks at each of `channels`."""
    blocks = options.blocks_per_stage
    return nnx.List(
        [
            nnx.List([ResidualBlock(c, options=options, rngs=rngs) for _ in range(blocks)])
            for c in channels
        ]
    )


class ResNetEncoder(nnx.Module):
    """[batch, H, W, C] -> [batch, out_features]: a 3x3 stem conv, residual stages with a
    stride-2 conv between consecutive stages, a final norm and activation, then a linear
    map of the flattened features."""

    def __init__(
        self,
        input_shape: Sequence[int],
        out_features: int,
        *,
        options: ResNetOptions,
        rngs: nnx.Rngs,
    ):
        height, width, in_channels = image_shape_of(input_shape)
        channels = options.channels
        self.activation = get_activation(options.activation)
        self.stem = nnx.Conv(in_channels, channels[0], (3, 3), padding="SAME", rngs=rngs)
        self.stages = residual_stages(channels, options, rngs)
        self.downs = nnx.List(
            [
                nnx.Conv(a, b, (3, 3), strides=2, padding="SAME", rngs=rngs)
                for a, b in itertools.pairwise(channels)
            ]
        )
        self.norm = Norm(options.norm, channels[-1], num_groups=options.num_groups, rngs=rngs)
        num_downs = len(channels) - 1
        h, w = downsampled_size(height, num_downs), downsampled_size(width, num_downs)
        self.out = nnx.Linear(h * w * channels[-1], out_features, rngs=rngs)

    def __call__(self, x: jax.Array, *, train: bool, rngs: nnx.Rngs | None) -> jax.Array:
        x = self.stem(x)
        for i, stage in enumerate(self.stages):
            if i > 0:
                x = self.downs[i - 1](x)
            for block in stage:
                x = block(x, train=train, rngs=rngs)
        x = self.activation(self.norm(x, train=train))
        return self.out(x.reshape((*x.shape[:-3], -1)))


class ResNetDecoder(Decoder):
    """[batch, latent_dim] -> [batch, H, W, out_channels], mirroring the encoder: a linear
    map to the smallest feature map, residual stages (channels reversed) with x2
    nearest-neighbour upsampling and a 3x3 conv between them, then norm, activation and
    a 3x3 output conv; cropped to H x W (stride-2 stages round odd sizes up)."""

    def __init__(
        self,
        latent_dim: int,
        output_shape: Sequence[int],
        *,
        options: ResNetOptions,
        rngs: nnx.Rngs,
    ):
        height, width, out_channels = image_shape_of(output_shape)
        channels = tuple(reversed(options.channels))
        num_ups = len(channels) - 1
        self.activation = get_activation(options.activation)
        self.output_hw = (height, width)
        self.start_shape = (
            downsampled_size(height, num_ups),
            downsampled_size(width, num_ups),
            channels[0],
        )
        self.project = nnx.Linear(latent_dim, math.prod(self.start_shape), rngs=rngs)
        self.stages = residual_stages(channels, options, rngs)
        self.ups = nnx.List(
            [
                nnx.Conv(a, b, (3, 3), padding="SAME", rngs=rngs)
                for a, b in itertools.pairwise(channels)
            ]
        )
        self.norm = Norm(options.norm, channels[-1], num_groups=options.num_groups, rngs=rngs)
        self.out = nnx.Conv(channels[-1], out_channels, (3, 3), padding="SAME", rngs=rngs)

    def __call__(self, z: jax.Array, *, train: bool, rngs: nnx.Rngs | None) -> jax.Array:
        x = self.project(z).reshape(z.shape[:-1] + self.start_shape)
        for i, stage in enumerate(self.stages):
            if i > 0:
                x = self.ups[i - 1](upsample_nearest(x))
            for block in stage:
                x = block(x, train=train, rngs=rngs)
        x = self.out(self.activation(self.norm(x, train=train)))
        height, width = self.output_hw
        return x[..., :height, :width, :]
