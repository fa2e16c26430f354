"""A VAE with a spatial Gaussian latent: the first stage of latent diffusion (Rombach et
al., 2022, "High-Resolution Image Synthesis with Latent Diffusion Models", the
"AutoencoderKL").

The encoder is fully convolutional: a 3x3 stem, residual stages (`aelab.models.resnet`)
with a stride-2 convolution between consecutive stages, a norm, an activation and a 3x3
convolution to 2 * latent_channels channels (mean and log-variance). An image
[H, W, C] becomes a code [ceil(H/f), ceil(W/f), latent_channels] with downsampling factor
f = 2^(len(channels) - 1): f = 4 on 28x28 images is a 7x7xc code. The decoder mirrors it
(nearest-neighbour x2 upsampling and a 3x3 conv between stages) and ends in a 3x3 conv
named `decoder.out` (the layer VQGAN's adaptive weight reads).

The code is a `GaussianVAE` with the N(0, I) prior, so the latent-variable hooks (KL per
latent value, importance weights, prior samples) are those of any one-latent VAE; codes
travel flat ([batch, latent_dim] with latent_dim = h * w * c, as the prior samples them)
or spatial ([batch, h, w, c], as the encoder gives them): the decoder reads either.

Options (`config.model`): `SpatialVAEOptions` below. `latent_dim` is not read: the
code's size follows from the image size, `channels` and `latent_channels`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import jax
from flax import nnx

from aelab.core.options import option, options_class
from aelab.models.autoencoder import GaussianVAE
from aelab.models.conv import downsampled_size, image_shape_of
from aelab.models.layers import Decoder, Norm, get_activation, upsample_nearest
from aelab.models.registry import register_model
from aelab.models.resnet import ResNetOptions, residual_stages


@options_class
class SpatialVAEOptions(ResNetOptions):
    """`config.model` of "spatial_vae" (the resnet family's options, and the code's
    channels)."""

    latent_dim: int = option(
        16,
        "not read: the code's size is ceil(H/f) * ceil(W/f) * latent_channels",
        minimum=1,
    )
    latent_channels: int = option(
        4, "c: channels of the spatial code [H/f, W/f, c] (f = 2^(len(channels) - 1))", minimum=1
    )


def code_shape(image_shape: Sequence[int], options: SpatialVAEOptions) -> tuple[int, int, int]:
    """(h, w, c) of the code of images of shape (H, W, C): ceil(H / f), ceil(W / f) and
    `latent_channels`."""
    height, width, _ = image_shape_of(image_shape)
    downs = len(options.channels) - 1
    return (
        downsampled_size(height, downs),
        downsampled_size(width, downs),
        options.latent_channels,
    )


class SpatialEncoder(nnx.Module):
    """[batch, H, W, C] -> [batch, h, w, 2 * latent_channels] (mean, then log-variance,
    on the channel axis)."""

    def __init__(self, input_shape: Sequence[int], *, options: SpatialVAEOptions, rngs: nnx.Rngs):
        _, _, in_channels = image_shape_of(input_shape)
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
        self.out = nnx.Conv(
            channels[-1], 2 * options.latent_channels, (3, 3), padding="SAME", rngs=rngs
        )

    def __call__(self, x: jax.Array, *, train: bool, rngs: nnx.Rngs | None) -> jax.Array:
        x = self.stem(x)
        for i, stage in enumerate(self.stages):
            if i > 0:
                x = self.downs[i - 1](x)
            for block in stage:
                x = block(x, train=train, rngs=rngs)
        return self.out(self.activation(self.norm(x, train=train)))


class SpatialDecoder(Decoder):
    """Codes [batch, h, w, c] or flat [batch, h * w * c] -> [batch, H, W, out_channels]:
    a 3x3 conv, residual stages (channels reversed) with x2 nearest-neighbour upsampling
    and a 3x3 conv between them, norm, activation and the 3x3 output conv; cropped to
    H x W (stride-2 stages round odd sizes up)."""

    def __init__(
        self,
        output_shape: Sequence[int],
        *,
        options: SpatialVAEOptions,
        rngs: nnx.Rngs,
    ):
        height, width, out_channels = image_shape_of(output_shape)
        channels = tuple(reversed(options.channels))
        self.code_shape = code_shape(output_shape, options)
        self.activation = get_activation(options.activation)
        self.output_hw = (height, width)
        self.stem = nnx.Conv(
            options.latent_channels, channels[0], (3, 3), padding="SAME", rngs=rngs
        )
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
        if z.shape[-3:] != self.code_shape:  # a flat code, as the prior samples it
            z = z.reshape(*z.shape[:-1], *self.code_shape)
        x = self.stem(z)
        for i, stage in enumerate(self.stages):
            if i > 0:
                x = self.ups[i - 1](upsample_nearest(x))
            for block in stage:
                x = block(x, train=train, rngs=rngs)
        x = self.out(self.activation(self.norm(x, train=train)))
        height, width = self.output_hw
        return x[..., :height, :width, :]


@register_model(
    "spatial_vae",
    options=SpatialVAEOptions,
    tiny_fields={"channels": (8, 16), "latent_channels": 2},
    objective="elbo",
)
def build_spatial_vae(options, input_shape, output_shape, rngs):
    """The KL autoencoder: `GaussianVAE` of a `SpatialEncoder` and a `SpatialDecoder`
    with the N(0, I) prior; latent_dim = h * w * latent_channels."""
    encoder = SpatialEncoder(input_shape, options=options, rngs=rngs)
    decoder = SpatialDecoder(output_shape, options=options, rngs=rngs)
    return GaussianVAE(encoder, decoder, math.prod(code_shape(input_shape, options)))
