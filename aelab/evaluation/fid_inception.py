"""The FID Inception-v3 network, images -> 2048-d pool3 features, as pytorch-fid's
`InceptionV3([3])` (mseitzer/pytorch-fid `src/pytorch_fid/inception.py`,
`fid_inception_v3()`) computes them, in `jax.lax` with NHWC images:

  1. images [n, H, W, 1 or 3] in [0, 1]; grey images are repeated to 3 channels;
  2. resized to 299x299, bilinear (PyTorch's `F.interpolate(mode="bilinear",
     align_corners=False)`: half-pixel centres, no antialiasing);
  3. scaled to [-1, 1] (2x - 1);
  4. the stem: BasicConv2d 3x3/2, 3x3, 3x3 (padding 1), max pool 3x3/2, 1x1, 3x3,
     max pool 3x3/2; every BasicConv2d is a convolution without bias, BatchNorm with
     eps 0.001 (its running statistics) and ReLU;
  5. Mixed_5b..5d (InceptionA), Mixed_6a (InceptionB), Mixed_6b..6e (InceptionC),
     Mixed_7a (InceptionD), Mixed_7b (InceptionE), Mixed_7c (InceptionE), with the
     TF-FID graph's variants that pytorch-fid patches in: the 3x3 average pools of the
     A, C and first E blocks leave the padded zeros out of the mean
     (`count_include_pad=False`) and the last E block max-pools instead;
  6. the global average over the final 8x8 positions: [n, 2048].

The layer shapes, strides and paddings are `aelab.evaluation.inception_weights`'
`BASIC_CONVS`, read from torchvision's `inception.py` that pytorch-fid builds on; the
weights come from the local file that module reads. Convolutions run at
`Precision.HIGHEST`, so an accelerator computes them in float32 too (not TF32/bf16).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from aelab.evaluation.inception_weights import (
    BATCH_NORM_EPSILON,
    CONVS_BY_NAME,
    MIXED_BLOCKS,
    load_inception_weights,
)
from aelab.evaluation.model_calls import map_in_batches

INPUT_SIDE = 299
_NO_PAD = ((0, 0), (0, 0), (0, 0), (0, 0))
_PAD_ONE = ((0, 0), (1, 1), (1, 1), (0, 0))


def basic_conv(x: jax.Array, params: dict, name: str) -> jax.Array:
    """BasicConv2d `name`: ReLU(BatchNorm(conv(x))), x [n, h, w, in] -> [n, h', w', out]."""
    conv = CONVS_BY_NAME[name]
    (pad_h, pad_w), stride = conv.padding, conv.stride
    y = jax.lax.conv_general_dilated(
        x,
        params[f"{name}.conv.kernel"],
        window_strides=(stride, stride),
        padding=((pad_h, pad_h), (pad_w, pad_w)),
        dimension_numbers=("NHWC", "HWIO", "NHWC"),
        precision=jax.lax.Precision.HIGHEST,
    )
    scale = params[f"{name}.bn.weight"] * jax.lax.rsqrt(
        params[f"{name}.bn.running_var"] + BATCH_NORM_EPSILON
    )
    shift = params[f"{name}.bn.bias"] - params[f"{name}.bn.running_mean"] * scale
    return jax.nn.relu(y * scale + shift)


def max_pool_3x3_stride_2(x: jax.Array) -> jax.Array:
    """PyTorch's max_pool2d(kernel_size=3, stride=2): no padding, rounding down."""
    return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 3, 3, 1), (1, 2, 2, 1), _NO_PAD)


def max_pool_3x3_same(x: jax.Array) -> jax.Array:
    """max_pool2d(kernel_size=3, stride=1, padding=1): the padding never wins."""
    return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 3, 3, 1), (1, 1, 1, 1), _PAD_ONE)


def avg_pool_3x3_without_padding(x: jax.Array) -> jax.Array:
    """avg_pool2d(kernel_size=3, stride=1, padding=1, count_include_pad=False): each
    window's mean over the positions inside the image (TensorFlow's average pool)."""
    window, strides = (1, 3, 3, 1), (1, 1, 1, 1)
    total = jax.lax.reduce_window(x, 0.0, jax.lax.add, window, strides, _PAD_ONE)
    ones = jnp.ones((1, *x.shape[1:3], 1), x.dtype)
    count = jax.lax.reduce_window(ones, 0.0, jax.lax.add, window, strides, _PAD_ONE)
    return total / count


def _concat(*branches: jax.Array) -> jax.Array:
    return jnp.concatenate(branches, axis=-1)


def _inception_a(x, params, block):
    def conv(h, name):
        return basic_conv(h, params, f"{block}.{name}")

    branch5x5 = conv(conv(x, "branch5x5_1"), "branch5x5_2")
    branch3x3dbl = conv(conv(conv(x, "branch3x3dbl_1"), "branch3x3dbl_2"), "branch3x3dbl_3")
    branch_pool = conv(avg_pool_3x3_without_padding(x), "branch_pool")
    return _concat(conv(x, "branch1x1"), branch5x5, branch3x3dbl, branch_pool)


def _inception_b(x, params, block):
    def conv(h, name):
        return basic_conv(h, params, f"{block}.{name}")

    branch3x3dbl = conv(conv(conv(x, "branch3x3dbl_1"), "branch3x3dbl_2"), "branch3x3dbl_3")
    return _concat(conv(x, "branch3x3"), branch3x3dbl, max_pool_3x3_stride_2(x))


def _inception_c(x, params, block):
    def conv(h, name):
        return basic_conv(h, params, f"{block}.{name}")

    branch7x7 = x
    for k in (1, 2, 3):
        branch7x7 = conv(branch7x7, f"branch7x7_{k}")
    branch7x7dbl = x
    for k in (1, 2, 3, 4, 5):
        branch7x7dbl = conv(branch7x7dbl, f"branch7x7dbl_{k}")
    branch_pool = conv(avg_pool_3x3_without_padding(x), "branch_pool")
    return _concat(conv(x, "branch1x1"), branch7x7, branch7x7dbl, branch_pool)


def _inception_d(x, params, block):
    def conv(h, name):
        return basic_conv(h, params, f"{block}.{name}")

    branch3x3 = conv(conv(x, "branch3x3_1"), "branch3x3_2")
    branch7x7x3 = x
    for k in (1, 2, 3, 4):
        branch7x7x3 = conv(branch7x7x3, f"branch7x7x3_{k}")
    return _concat(branch3x3, branch7x7x3, max_pool_3x3_stride_2(x))


def _inception_e(x, params, block, pool):
    def conv(h, name):
        return basic_conv(h, params, f"{block}.{name}")

    branch3x3 = conv(x, "branch3x3_1")
    branch3x3 = _concat(conv(branch3x3, "branch3x3_2a"), conv(branch3x3, "branch3x3_2b"))
    branch3x3dbl = conv(conv(x, "branch3x3dbl_1"), "branch3x3dbl_2")
    branch3x3dbl = _concat(
        conv(branch3x3dbl, "branch3x3dbl_3a"), conv(branch3x3dbl, "branch3x3dbl_3b")
    )
    branch_pool = conv(pool(x), "branch_pool")
    return _concat(conv(x, "branch1x1"), branch3x3, branch3x3dbl, branch_pool)


_BLOCKS = {
    "a": _inception_a,
    "b": _inception_b,
    "c": _inception_c,
    "d": _inception_d,
    "e_1": lambda x, params, block: _inception_e(x, params, block, avg_pool_3x3_without_padding),
    "e_2": lambda x, params, block: _inception_e(x, params, block, max_pool_3x3_same),
}


def preprocess(images: jax.Array) -> jax.Array:
    """Images [n, H, W, 1 or 3] in [0, 1] -> the network's input [n, 299, 299, 3] in
    [-1, 1]: grey repeated to RGB, bilinear resize (half-pixel centres, no
    antialiasing, as PyTorch's align_corners=False), 2x - 1."""
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(
            f"The FID Inception reads images [n, height, width, 1 or 3]; got shape "
            f"{tuple(images.shape)}."
        )
    images = images.astype(jnp.float32)
    if images.shape[-1] == 1:
        images = jnp.repeat(images, 3, axis=-1)
    resized = jax.image.resize(
        images, (len(images), INPUT_SIDE, INPUT_SIDE, 3), method="bilinear", antialias=False
    )
    return 2.0 * resized - 1.0


def inception_network(params: dict, x: jax.Array) -> jax.Array:
    """The network on its input x [n, 299, 299, 3] in [-1, 1] (`preprocess`): the pool3
    features [n, 2048] (2048 / divisor for a file of reduced width)."""
    x = basic_conv(x, params, "Conv2d_1a_3x3")  # 149x149x32
    x = basic_conv(x, params, "Conv2d_2a_3x3")  # 147x147x32
    x = basic_conv(x, params, "Conv2d_2b_3x3")  # 147x147x64
    x = max_pool_3x3_stride_2(x)  # 73x73x64
    x = basic_conv(x, params, "Conv2d_3b_1x1")  # 73x73x80
    x = basic_conv(x, params, "Conv2d_4a_3x3")  # 71x71x192
    x = max_pool_3x3_stride_2(x)  # 35x35x192
    for block, kind, _ in MIXED_BLOCKS:  # 35x35x288 after 5d, 17x17x768, 8x8x2048
        x = _BLOCKS[kind](x, params, block)
    return jnp.mean(x, axis=(1, 2))


def pool3_features(params: dict, images: jax.Array) -> jax.Array:
    """The FID Inception's pool3 features of images [n, H, W, 1 or 3] in [0, 1]:
    [n, 2048] (2048 / divisor for a file of reduced width). Jit-able; `params` is the
    {key: array} of `aelab.evaluation.inception_weights`."""
    return inception_network(params, preprocess(images))


# Jitted once for every FIDInception, the resize apart from the network: instances with
# the same weight shapes share the network's compilation, whatever their images' size.
_jitted_preprocess = jax.jit(preprocess)
_jitted_network = jax.jit(inception_network)


class FIDInception:
    """The FID Inception with fixed weights, over host arrays in fixed-size batches
    (one compilation; the last batch padded).

    Args:
      params: {key: float32 array} in the layout of `aelab.evaluation.inception_weights`.
      batch_size: images per jitted call (a process computing batches of 50 on a CPU
        peaked at 1.4 GB).
    """

    def __init__(self, params: dict, *, batch_size: int = 50):
        self.params = {key: jnp.asarray(value) for key, value in params.items()}
        self.batch_size = batch_size
        self.feature_dim = int(
            sum(
                params[f"Mixed_7c.{name}.conv.kernel"].shape[-1] * copies
                for name, copies in (
                    ("branch1x1", 1),
                    ("branch3x3_2a", 2),
                    ("branch3x3dbl_3a", 2),
                    ("branch_pool", 1),
                )
            )
        )

    def features(self, images: np.ndarray) -> np.ndarray:
        """pool3 features [n, feature_dim] (float32) of images [n, H, W, 1 or 3] in [0, 1]."""
        images = np.asarray(images, np.float32)
        return map_in_batches(
            lambda b: _jitted_network(self.params, _jitted_preprocess(b)), images, self.batch_size
        )


def load_fid_inception(path, *, batch_size: int = 50) -> FIDInception:
    """The FID Inception with the weights of the local file at `path` (`.safetensors`
    or `.npz`); an `InceptionWeightsError` naming the path, the problem and the
    conversion command when the file is missing or off the layout."""
    return FIDInception(load_inception_weights(path), batch_size=batch_size)
