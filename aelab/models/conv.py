"""Convolutional encoders and decoders for images [batch, height, width, channels]."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
from flax import nnx

from aelab.core.options import option, options_class
from aelab.models.conditional import (
    ConditioningOptions,
    concat_width,
    film_layers,
    modulate,
    with_condition_channels,
    with_condition_values,
)
from aelab.models.convolutions import StrideTwoConvTranspose, conv_layer
from aelab.models.layers import ACTIVATION_NAMES, Decoder, get_activation

UPSAMPLING_MODES = ("transpose", "subpixel", "resize")


@options_class
class ConvOptions(ConditioningOptions):
    """`config.model` of the conv family (with the optional side input of
    `aelab.models.conditional`)."""

    channels: tuple[int, ...] = option(
        (32, 64),
        "channels of each stride-2 stage from the input side; the decoder mirrors them",
        minimum=1,
        min_length=1,
    )
    kernel_size: int = option(3, "side of the square convolution kernels", minimum=1)
    activation: str = option(
        "relu", "activation after each stage", choices=ACTIVATION_NAMES, kind="activation"
    )
    batch_norm: bool = option(False, "batch norm after each convolution stage")
    upsample: str = option(
        "transpose",
        "decoder x2 upsampling: 'transpose' (stride-2 transposed convs), 'subpixel' (the "
        "same function as conv + depth-to-space, faster on CPU) or 'resize' (nearest x2 "
        "then a conv)",
        choices=UPSAMPLING_MODES,
    )
    output_conv: bool = option(
        True,
        "decoder: a final convolution maps the last upsampling stage to the output "
        "channels; False: the last stage outputs them itself (the disentanglement "
        "literature's decoder, Locatello et al. 2019; at 64x64 this saves the full-size "
        "stage of channels[0] channels, two thirds of the decoder's multiply-adds)",
    )


def image_shape_of(shape: Sequence[int]) -> tuple[int, int, int]:
    """(height, width, channels) of an image shape; a clear error for other shapes."""
    if len(shape) != 3:
        raise ValueError(
            f"Convolutional models take images [height, width, channels]; got examples of "
            f"shape {tuple(shape)}. Use a recurrent or dense model for other data, or set "
            "config.data.flatten=False."
        )
    return tuple(shape)


def downsampled_size(size: int, num_stages: int) -> int:
    """Spatial size after `num_stages` stride-2 'SAME' convolutions: ceil(size / 2^n)."""
    for _ in range(num_stages):
        size = -(-size // 2)
    return size


class ConvEncoder(nnx.Module):
    """Stride-2 3x3 convolutions, then a linear map of the flattened features.

    [batch, H, W, C] -> [batch, out_features]; each stage halves H and W (rounding up).
    Under `options.conditioning`, a condition [batch, condition_dim] is appended to the
    input as constant channels ("concat") or modulates each stage ("film").
    """

    def __init__(
        self, input_shape: Sequence[int], out_features: int, *, options: ConvOptions, rngs: nnx.Rngs
    ):
        height, width, in_channels = image_shape_of(input_shape)
        channels = options.channels
        kernel = options.kernel_size
        self.activation = get_activation(options.activation)
        self.concat_width = concat_width(options)
        self.films = film_layers(options, channels, rngs=rngs)
        sizes = [in_channels + self.concat_width, *channels]
        self.convs = nnx.List(
            [
                conv_layer(a, b, (kernel, kernel), strides=2, padding="SAME", rngs=rngs)
                for a, b in itertools.pairwise(sizes)
            ]
        )
        self.norms = nnx.List(
            [nnx.BatchNorm(c, rngs=rngs) for c in channels] if options.batch_norm else []
        )
        h, w = downsampled_size(height, len(channels)), downsampled_size(width, len(channels))
        self.out = nnx.Linear(h * w * channels[-1], out_features, rngs=rngs)

    def __call__(
        self,
        x: jax.Array,
        *,
        train: bool,
        rngs: nnx.Rngs | None,
        condition: jax.Array | None = None,
    ) -> jax.Array:
        x = with_condition_channels(x, condition, self.concat_width)
        for i, conv in enumerate(self.convs):
            x = conv(x)
            if self.norms:
                x = self.norms[i](x, use_running_average=not train)
            x = modulate(self.films, i, x, condition)
            x = self.activation(x)
        return self.out(x.reshape((*x.shape[:-3], -1)))


class ConvDecoder(Decoder):
    """A linear map to a small feature map, then x2 upsampling stages back to the image.

    [batch, latent_dim] -> [batch, H, W, out_channels]. Channels mirror the encoder's.
    `upsample` is "transpose" (stride-2 transposed convolutions), "subpixel" (the same
    transposed convolutions, same parameters and function, computed as a convolution to
    4x the channels then depth-to-space: faster on CPU, see `aelab.models.convolutions`)
    or "resize" (nearest-neighbour x2 then a 3x3 convolution, which avoids checkerboard
    artefacts). Under `options.conditioning`, a condition [batch, condition_dim] is
    appended to the code ("concat") or modulates each upsampling stage ("film").
    """

    def __init__(
        self,
        latent_dim: int,
        output_shape: Sequence[int],
        *,
        options: ConvOptions,
        rngs: nnx.Rngs,
    ):
        height, width, out_channels = image_shape_of(output_shape)
        channels = tuple(reversed(options.channels))
        kernel = options.kernel_size
        self.upsample = options.upsample
        self.activation = get_activation(options.activation)
        self.output_hw = (height, width)
        self.start_shape = (
            downsampled_size(height, len(channels)),
            downsampled_size(width, len(channels)),
            channels[0],
        )
        self.concat_width = concat_width(options)
        self.project = nnx.Linear(
            latent_dim + self.concat_width, math.prod(self.start_shape), rngs=rngs
        )
        # Without the output convolution the last stage maps straight to the output
        # channels, with no norm, modulation or activation after it.
        sizes = [*channels, channels[-1] if options.output_conv else out_channels]
        hidden = sizes[1:] if options.output_conv else sizes[1:-1]
        self.films = film_layers(options, hidden, rngs=rngs)
        if self.upsample == "resize":
            self.ups = nnx.List(
                [
                    conv_layer(a, b, (kernel, kernel), padding="SAME", rngs=rngs)
                    for a, b in itertools.pairwise(sizes)
                ]
            )
        else:
            self.ups = nnx.List(
                [
                    StrideTwoConvTranspose(a, b, kernel, method=self.upsample, rngs=rngs)
                    for a, b in itertools.pairwise(sizes)
                ]
            )
        self.norms = nnx.List(
            [nnx.BatchNorm(c, rngs=rngs) for c in hidden] if options.batch_norm else []
        )
        self.out = (
            conv_layer(sizes[-1], out_channels, (kernel, kernel), padding="SAME", rngs=rngs)
            if options.output_conv
            else None
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
        x = self.activation(self.project(z)).reshape(z.shape[:-1] + self.start_shape)
        for i, up in enumerate(self.ups):
            if self.upsample == "resize":
                x = jnp.repeat(jnp.repeat(x, 2, axis=-3), 2, axis=-2)
            x = up(x)
            if i == len(self.ups) - 1 and self.out is None:
                break
            if self.norms:
                x = self.norms[i](x, use_running_average=not train)
            x = modulate(self.films, i, x, condition)
            x = self.activation(x)
        if self.out is not None:
            x = self.out(x)
        height, width = self.output_hw
        # 'SAME' stride-2 stages round sizes up (7 -> 4 -> 8 for 28 -> 14 -> 7); crop back.
        return x[..., :height, :width, :]
