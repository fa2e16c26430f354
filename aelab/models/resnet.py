"""Residual encoders and decoders for images [batch, height, width, channels].

Pre-activation residual blocks (He et al., 2016, "Identity mappings in deep residual
networks": norm -> activation -> conv, twice, added to the input) in stages of
`config.channels`; between stages the encoder halves the resolution with a stride-2
convolution and the decoder doubles it with nearest-neighbour upsampling and a 3x3
convolution (as in VDVAE and NVAE decoders: regular convolutions only, no checkerboard
artefacts). This is the shape of a modern VAE encoder/decoder, at small scale.

Config fields (`config.model`):
  channels: channels per stage, e.g. (32, 64); len(channels) - 1 resolution halvings.
  blocks_per_stage: residual blocks in each stage (default 1).
  norm: "group" (default), "batch" or "none"; num_groups: GroupNorm groups (default 8).
  activation: default "silu".
  dropout_rate: dropout between the two convolutions of a block (default 0).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import jax
from flax import nnx

from aelab.models.conv import downsampled_size
from aelab.models.layers import Norm, get_activation, upsample_nearest


class ResidualBlock(nnx.Module):
    """x + conv(act(norm(conv(act(norm(x)))))) at constant channels: [b, H, W, C]."""

    def __init__(self, channels: int, *, config, rngs: nnx.Rngs):
        norm = config.get("norm", "group")
        groups = config.get("num_groups", 8)
        self.activation = get_activation(config.get("activation", "silu"))
        self.norm1 = Norm(norm, channels, num_groups=groups, rngs=rngs)
        self.conv1 = nnx.Conv(channels, channels, (3, 3), padding="SAME", rngs=rngs)
        self.norm2 = Norm(norm, channels, num_groups=groups, rngs=rngs)
        self.conv2 = nnx.Conv(channels, channels, (3, 3), padding="SAME", rngs=rngs)
        rate = config.get("dropout_rate", 0.0)
        self.dropout = nnx.Dropout(rate) if rate > 0 else None

    def __call__(self, x: jax.Array, *, train: bool, rngs: nnx.Rngs | None) -> jax.Array:
        h = self.conv1(self.activation(self.norm1(x, train=train)))
        if self.dropout is not None:
            h = self.dropout(h, deterministic=not train, rngs=rngs)
        h = self.conv2(self.activation(self.norm2(h, train=train)))
        return x + h


def _stages(channels: Sequence[int], config, rngs: nnx.Rngs) -> nnx.List:
    blocks = config.get("blocks_per_stage", 1)
    return nnx.List(
        [
            nnx.List([ResidualBlock(c, config=config, rngs=rngs) for _ in range(blocks)])
            for c in channels
        ]
    )


class ResNetEncoder(nnx.Module):
    """[batch, H, W, C] -> [batch, out_features]: a 3x3 stem conv, residual stages with a
    stride-2 conv between consecutive stages, a final norm and activation, then a linear
    map of the flattened features."""

    def __init__(self, input_shape: Sequence[int], out_features: int, *, config, rngs: nnx.Rngs):
        height, width, in_channels = input_shape
        channels = tuple(config.channels)
        self.activation = get_activation(config.get("activation", "silu"))
        self.stem = nnx.Conv(in_channels, channels[0], (3, 3), padding="SAME", rngs=rngs)
        self.stages = _stages(channels, config, rngs)
        self.downs = nnx.List(
            [
                nnx.Conv(a, b, (3, 3), strides=2, padding="SAME", rngs=rngs)
                for a, b in itertools.pairwise(channels)
            ]
        )
        self.norm = Norm(
            config.get("norm", "group"),
            channels[-1],
            num_groups=config.get("num_groups", 8),
            rngs=rngs,
        )
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


class ResNetDecoder(nnx.Module):
    """[batch, latent_dim] -> [batch, H, W, out_channels], mirroring the encoder: a linear
    map to the smallest feature map, residual stages (channels reversed) with x2
    nearest-neighbour upsampling and a 3x3 conv between them, then norm, activation and
    a 3x3 output conv; cropped to H x W (stride-2 stages round odd sizes up)."""

    def __init__(self, latent_dim: int, output_shape: Sequence[int], *, config, rngs: nnx.Rngs):
        height, width, out_channels = output_shape
        channels = tuple(reversed(tuple(config.channels)))
        num_ups = len(channels) - 1
        self.activation = get_activation(config.get("activation", "silu"))
        self.output_hw = (height, width)
        self.start_shape = (
            downsampled_size(height, num_ups),
            downsampled_size(width, num_ups),
            channels[0],
        )
        self.project = nnx.Linear(latent_dim, math.prod(self.start_shape), rngs=rngs)
        self.stages = _stages(channels, config, rngs)
        self.ups = nnx.List(
            [
                nnx.Conv(a, b, (3, 3), padding="SAME", rngs=rngs)
                for a, b in itertools.pairwise(channels)
            ]
        )
        self.norm = Norm(
            config.get("norm", "group"),
            channels[-1],
            num_groups=config.get("num_groups", 8),
            rngs=rngs,
        )
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
