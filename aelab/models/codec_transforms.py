"""Analysis and synthesis transforms of learned image codecs (Ballé et al., 2017, 2018).

- "conv": 5x5 stride-2 convolutions with GDN, then a 3x3 convolution to the latent
  channels; the synthesis mirrors it with IGDN and stride-2 transposed convolutions.
- "residual": the same stages with a residual block (3x3 conv, ReLU, 3x3 conv, skip)
  after each one, as in the residual codecs that followed (Cheng et al., 2020).
- "dense": an MLP to a flat latent of `latent_dim` values (on small images such as
  MNIST digits a global code spends fewer bits than a spatial latent).

The hyper transforms of the scale-hyperprior model map |y| to side information z and
z back to the scales of y, with one stride-2 stage for spatial latents.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
from flax import nnx

from aelab.models.convolutions import StrideTwoConvTranspose, conv_layer
from aelab.models.gdn import GDN

TRANSFORMS = ("conv", "residual", "dense")


def spatial_latent_shape(
    image_shape: Sequence[int], num_stages: int, channels: int
) -> tuple[int, ...]:
    """[h / 2^stages, w / 2^stages, channels] (sizes rounded up, 'SAME' padding)."""
    height, width = image_shape[0], image_shape[1]
    for _ in range(num_stages):
        height, width = -(-height // 2), -(-width // 2)
    return (height, width, channels)


class _ResidualBlock(nnx.Module):
    """x + conv(relu(conv(x))), 3x3 convolutions keeping the channels."""

    def __init__(self, channels: int, *, rngs: nnx.Rngs):
        self.first = conv_layer(channels, channels, (3, 3), padding="SAME", rngs=rngs)
        self.second = conv_layer(channels, channels, (3, 3), padding="SAME", rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        return x + self.second(jax.nn.relu(self.first(x)))


class ConvAnalysis(nnx.Module):
    """Image [batch, H, W, c] -> latent y [batch, H / 2^s, W / 2^s, latent_channels],
    s = len(channels) stride-2 stages, each followed by GDN (and a residual block)."""

    def __init__(
        self,
        in_channels: int,
        channels: Sequence[int],
        latent_channels: int,
        *,
        residual: bool,
        rngs: nnx.Rngs,
    ):
        sizes = [in_channels, *channels]
        self.downs = nnx.List(
            [
                conv_layer(a, b, (5, 5), strides=2, padding="SAME", rngs=rngs)
                for a, b in itertools.pairwise(sizes)
            ]
        )
        self.norms = nnx.List([GDN(c) for c in channels])
        self.blocks = nnx.List([_ResidualBlock(c, rngs=rngs) for c in channels] if residual else [])
        self.out = conv_layer(channels[-1], latent_channels, (3, 3), padding="SAME", rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        for i, (down, norm) in enumerate(zip(self.downs, self.norms, strict=True)):
            x = norm(down(x))
            if self.blocks:
                x = self.blocks[i](x)
        return self.out(x)


class ConvSynthesis(nnx.Module):
    """Latent [batch, h, w, latent_channels] -> image [batch, H, W, out_channels]: the
    analysis mirrored (IGDN, stride-2 transposed convolutions), cropped to H x W."""

    def __init__(
        self,
        latent_channels: int,
        channels: Sequence[int],
        output_shape: Sequence[int],
        *,
        residual: bool,
        rngs: nnx.Rngs,
    ):
        channels = tuple(reversed(channels))
        self.output_hw = (output_shape[0], output_shape[1])
        self.inp = conv_layer(latent_channels, channels[0], (3, 3), padding="SAME", rngs=rngs)
        self.norms = nnx.List([GDN(c, inverse=True) for c in channels])
        self.blocks = nnx.List([_ResidualBlock(c, rngs=rngs) for c in channels] if residual else [])
        sizes = [*channels, output_shape[-1]]
        # "subpixel": the same function as a transposed convolution, faster on the CPU.
        self.ups = nnx.List(
            [
                StrideTwoConvTranspose(a, b, 5, method="subpixel", rngs=rngs)
                for a, b in itertools.pairwise(sizes)
            ]
        )

    def __call__(self, y: jax.Array) -> jax.Array:
        x = self.inp(y)
        for i, (norm, up) in enumerate(zip(self.norms, self.ups, strict=True)):
            if self.blocks:
                x = self.blocks[i](x)
            x = up(norm(x))
        return x[..., : self.output_hw[0], : self.output_hw[1], :]


class DenseAnalysis(nnx.Module):
    """[batch, *input_shape] -> y [batch, latent_dim]: ReLU layers of `widths`."""

    def __init__(self, in_features: int, widths: Sequence[int], latent_dim: int, *, rngs: nnx.Rngs):
        sizes = [in_features, *widths]
        self.layers = nnx.List([nnx.Linear(a, b, rngs=rngs) for a, b in itertools.pairwise(sizes)])
        self.out = nnx.Linear(sizes[-1], latent_dim, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        x = x.reshape(x.shape[0], -1)
        for layer in self.layers:
            x = jax.nn.relu(layer(x))
        return self.out(x)


class DenseSynthesis(nnx.Module):
    """y [batch, latent_dim] -> [batch, *output_shape]: the analysis mirrored."""

    def __init__(
        self, latent_dim: int, widths: Sequence[int], output_shape: Sequence[int], *, rngs
    ):
        sizes = [latent_dim, *reversed(widths)]
        self.output_shape = tuple(output_shape)
        self.layers = nnx.List([nnx.Linear(a, b, rngs=rngs) for a, b in itertools.pairwise(sizes)])
        self.out = nnx.Linear(sizes[-1], math.prod(output_shape), rngs=rngs)

    def __call__(self, y: jax.Array) -> jax.Array:
        for layer in self.layers:
            y = jax.nn.relu(layer(y))
        return self.out(y).reshape(y.shape[0], *self.output_shape)


class SpatialHyperAnalysis(nnx.Module):
    """|y| [batch, h, w, C] -> z [batch, ceil(h / 2), ceil(w / 2), hyper_channels]."""

    def __init__(self, latent_channels: int, hyper_channels: int, *, rngs: nnx.Rngs):
        self.first = conv_layer(latent_channels, hyper_channels, (3, 3), padding="SAME", rngs=rngs)
        self.down = conv_layer(
            hyper_channels, hyper_channels, (5, 5), strides=2, padding="SAME", rngs=rngs
        )
        self.out = conv_layer(hyper_channels, hyper_channels, (3, 3), padding="SAME", rngs=rngs)

    def __call__(self, y: jax.Array) -> jax.Array:
        x = jax.nn.relu(self.first(jnp.abs(y)))
        return self.out(jax.nn.relu(self.down(x)))


class SpatialHyperSynthesis(nnx.Module):
    """z [batch, h', w', hyper_channels] -> pre-scales [batch, h, w, C] (cropped)."""

    def __init__(self, hyper_channels: int, latent_shape: Sequence[int], *, rngs: nnx.Rngs):
        self.latent_hw = (latent_shape[0], latent_shape[1])
        self.first = conv_layer(hyper_channels, hyper_channels, (3, 3), padding="SAME", rngs=rngs)
        self.up = StrideTwoConvTranspose(
            hyper_channels, hyper_channels, 5, method="subpixel", rngs=rngs
        )
        self.out = conv_layer(hyper_channels, latent_shape[-1], (3, 3), padding="SAME", rngs=rngs)

    def __call__(self, z: jax.Array) -> jax.Array:
        x = jax.nn.relu(self.up(jax.nn.relu(self.first(z))))
        x = x[..., : self.latent_hw[0], : self.latent_hw[1], :]
        return self.out(x)


class DenseHyperAnalysis(nnx.Module):
    """|y| [batch, latent_dim] -> z [batch, hyper_dim]."""

    def __init__(self, latent_dim: int, hyper_dim: int, *, rngs: nnx.Rngs):
        self.first = nnx.Linear(latent_dim, 4 * hyper_dim, rngs=rngs)
        self.out = nnx.Linear(4 * hyper_dim, hyper_dim, rngs=rngs)

    def __call__(self, y: jax.Array) -> jax.Array:
        return self.out(jax.nn.relu(self.first(jnp.abs(y))))


class DenseHyperSynthesis(nnx.Module):
    """z [batch, hyper_dim] -> pre-scales [batch, latent_dim]."""

    def __init__(self, hyper_dim: int, latent_dim: int, *, rngs: nnx.Rngs):
        self.first = nnx.Linear(hyper_dim, 4 * hyper_dim, rngs=rngs)
        self.out = nnx.Linear(4 * hyper_dim, latent_dim, rngs=rngs)

    def __call__(self, z: jax.Array) -> jax.Array:
        return self.out(jax.nn.relu(self.first(z)))
