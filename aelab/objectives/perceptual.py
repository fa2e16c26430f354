"""LPIPS, the learned perceptual image patch similarity (Zhang et al., 2018, "The
Unreasonable Effectiveness of Deep Features as a Perceptual Metric"), computed as
richzhang/PerceptualSimilarity's `lpips.LPIPS(net=..., version="0.1")` does:

  1. images in [0, 1] are mapped to [-1, 1] (2x - 1; its `normalize=True`); grayscale
     images are repeated to 3 channels;
  2. its ScalingLayer: (x - shift) / scale per RGB channel, shift = (-.030, -.088,
     -.188), scale = (.458, .448, .450) (ImageNet's normalisation, in [-1, 1] units);
  3. features of a frozen ImageNet network at five layers: relu1_2, relu2_2, relu3_3,
     relu4_3, relu5_3 of VGG16 (3x3 convolutions, padding 1; 2x2 max pools, stride 2,
     rounding down), or relu1 ... relu5 of AlexNet;
  4. each feature vector is unit-normalised over channels, f / (||f||_2 + 1e-10);
  5. d = sum_l mean_{h,w} sum_c w_{l,c} (f0_{l,hwc} - f1_{l,hwc})^2, with w_l >= 0 the
     learned 1x1 "lin" layers (no bias; their dropout is off in evaluation).

Small images: VGG16's four pools take 28x28 to 14, 7, 3 and 1, so relu4_3 is 3x3 and
relu5_3 1x1 (one position, whose 3x3 convolutions read mostly zero padding): the two
deepest layers compare little more than global statistics. 16x16 is the smallest input
every layer sees (relu5_3 1x1); smaller images raise an error. AlexNet's stride-4 11x11
stem and two 3x3 stride-2 pools need at least 31x31 (so not 28x28 MNIST-sized images).

The weights are read once from a local file (`aelab.objectives.lpips_weights`); they
are constants of the computation, never trained.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from aelab.objectives.lpips_weights import VGG16_CONVS, load_lpips_weights

SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)
NORMALIZE_EPSILON = 1e-10
# The smallest image side each network's five layers all have at least one position at.
MIN_SIDE = {"vgg16": 16, "alexnet": 31}


def _conv(x, params, name, *, stride=1, padding=1):
    y = jax.lax.conv_general_dilated(
        x,
        params[f"{name}.kernel"],
        window_strides=(stride, stride),
        padding=((padding, padding), (padding, padding)),
        dimension_numbers=("NHWC", "HWIO", "NHWC"),
    )
    return jax.nn.relu(y + params[f"{name}.bias"])


def _max_pool(x, size):
    # PyTorch's MaxPool2d(size, stride 2) without padding: windows that fit, rounding down.
    return jax.lax.reduce_window(
        x, -jnp.inf, jax.lax.max, (1, size, size, 1), (1, 2, 2, 1), "VALID"
    )


def vgg16_features(x: jax.Array, params: dict) -> list[jax.Array]:
    """relu1_2, relu2_2, relu3_3, relu4_3, relu5_3 of VGG16 for x [batch, H, W, 3]
    (already scaled): five arrays [batch, h_l, w_l, channels_l]."""
    features = []
    for stage in range(1, 6):
        if stage > 1:
            x = _max_pool(x, 2)
        for name, *_ in VGG16_CONVS:
            if name.startswith(f"conv{stage}_"):
                x = _conv(x, params, name)
        features.append(x)
    return features


def alexnet_features(x: jax.Array, params: dict) -> list[jax.Array]:
    """relu1 ... relu5 of AlexNet for x [batch, H, W, 3] (already scaled)."""
    f1 = _conv(x, params, "conv1", stride=4, padding=2)
    f2 = _conv(_max_pool(f1, 3), params, "conv2", padding=2)
    f3 = _conv(_max_pool(f2, 3), params, "conv3")
    f4 = _conv(f3, params, "conv4")
    f5 = _conv(f4, params, "conv5")
    return [f1, f2, f3, f4, f5]


FEATURES = {"vgg16": vgg16_features, "alexnet": alexnet_features}


def unit_normalize(features: jax.Array) -> jax.Array:
    """f / (||f||_2 + 1e-10) over the channel axis of [..., channels]."""
    norm = jnp.sqrt(jnp.sum(features**2, axis=-1, keepdims=True))
    return features / (norm + NORMALIZE_EPSILON)


def scale_inputs(images: jax.Array) -> jax.Array:
    """Images [batch, H, W, 1 or 3] in [0, 1] -> LPIPS's network inputs [batch, H, W, 3]:
    2x - 1, grayscale repeated to RGB, then (x - shift) / scale."""
    if images.shape[-1] == 1:
        images = jnp.repeat(images, 3, axis=-1)
    x = 2.0 * images.astype(jnp.float32) - 1.0
    return (x - jnp.asarray(SHIFT)) / jnp.asarray(SCALE)


@dataclasses.dataclass(frozen=True, eq=False)
class LPIPS:
    """The LPIPS distance with fixed weights; `lpips(x, y)` -> [batch].

    Attributes:
      network: "vgg16" or "alexnet".
      params: {key: float32 array} in the layout of `aelab.objectives.lpips_weights`.
    """

    network: str
    params: dict

    def features(self, images: jax.Array) -> list[jax.Array]:
        """The five unit-normalised feature maps of images [batch, H, W, C] in [0, 1]."""
        height, width = images.shape[-3:-1]
        if images.shape[-1] not in (1, 3):
            raise ValueError(
                f"LPIPS compares grayscale or RGB images [batch, H, W, 1 or 3]; got "
                f"{images.shape[-1]} channels."
            )
        side = MIN_SIDE[self.network]
        if min(height, width) < side:
            raise ValueError(
                f"LPIPS-{self.network} needs images of at least {side}x{side} (its deepest "
                f"layer has no position below that); got {height}x{width}. Use vgg16 "
                "weights (16x16 and up) or larger images."
            )
        params = jax.tree.map(jnp.asarray, self.params)
        return [unit_normalize(f) for f in FEATURES[self.network](scale_inputs(images), params)]

    def __call__(self, x: jax.Array, y: jax.Array) -> jax.Array:
        """LPIPS(x, y) of images x, y [batch, H, W, C] in [0, 1] (C = 1 or 3): [batch]."""
        total = 0.0
        for layer, (fx, fy) in enumerate(zip(self.features(x), self.features(y), strict=True)):
            weight = jnp.asarray(self.params[f"lin{layer}.weight"])
            total = total + jnp.mean(jnp.sum(weight * (fx - fy) ** 2, axis=-1), axis=(-2, -1))
        return total


def load_lpips(path) -> LPIPS:
    """The LPIPS distance with the weights of the local file at `path` (`.safetensors`
    or `.npz`, `aelab.objectives.lpips_weights`); a clear `LpipsWeightsError` when the
    file is missing or wrong."""
    network, params = load_lpips_weights(path)
    return LPIPS(network, {key: np.asarray(value) for key, value in params.items()})
