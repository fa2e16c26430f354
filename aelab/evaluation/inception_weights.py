"""The FID Inception-v3 weights file: the network's layers, the file's key layout,
reading it back and writing it.

FID (Heusel et al., 2017) is defined on the pool3 features of one particular network:
the Inception-v3 graph of TensorFlow's `inception-2015-12-05.tgz`, which pytorch-fid
(mseitzer/pytorch-fid) ported to PyTorch as `pt_inception-2015-12-05-6726825d.pth`, a
state dict of torchvision's `Inception3(num_classes=1008, aux_logits=False)` with
pytorch-fid's patched blocks (`FIDInceptionA`, `C`, `E_1`, `E_2`). aelab reads those
weights from one local file, `.safetensors` or `.npz`, that
tools/convert_inception_weights.py writes from the published `.pth` (docs/fid.md);
nothing is downloaded.

Every convolution of the network is a BasicConv2d (a convolution without bias, then
BatchNorm with eps = 0.001, then ReLU), named by its torchvision module path `<layer>`
(`Conv2d_1a_3x3`, `Mixed_5b.branch1x1`, ..., `Mixed_7c.branch_pool`: the 94 of
`BASIC_CONVS`). The layout holds five float32 arrays per layer:

  <layer>.conv.kernel      [kh, kw, in, out]: `<layer>.conv.weight` [out, in, kh, kw]
                           transposed to HWIO (for `jax.lax.conv_general_dilated` with
                           NHWC images);
  <layer>.bn.weight        [out]  BatchNorm's gamma,
  <layer>.bn.bias          [out]  its beta,
  <layer>.bn.running_mean  [out]  its running mean,
  <layer>.bn.running_var   [out]  its running variance,

the four BatchNorm arrays copied unchanged from the state dict: nothing is folded into
the kernels (the network applies (y - mean) / sqrt(var + 0.001) * gamma + beta itself),
so every array can be compared with the published file one to one. The state dict's
`fc.weight` [1008, 2048] and `fc.bias` (the classifier, not part of the pool3 features)
and BatchNorm's `num_batches_tracked` counters are left out.

Files whose every width is the published one divided by the same whole number (1, 2, 4,
8 or 16: the tests' small random networks) are read too; their features have
2048 / divisor dimensions. The published file has divisor 1. A missing, unreadable or
mismatched file (a missing or unexpected key, a wrong shape, non-finite values) raises
`InceptionWeightsError`, one line naming the path, the first problem and the command
that makes the file.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from aelab.core.weights_file import read_arrays, write_arrays

PUBLISHED_FILE = "pt_inception-2015-12-05-6726825d.pth"
PUBLISHED_URL = (
    "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" + PUBLISHED_FILE
)
CONVERT_COMMAND = (
    f"python tools/convert_inception_weights.py --input={PUBLISHED_FILE} "
    "--output=fid_inception.safetensors"
)
BATCH_NORM_EPSILON = 1e-3
FEATURE_DIM = 2048
# The widths divisible by each: every channel count of the network is a multiple of 16.
DIVISORS = (1, 2, 4, 8, 16)
BN_KEYS = ("weight", "bias", "running_mean", "running_var")


@dataclasses.dataclass(frozen=True)
class BasicConv:
    """One BasicConv2d: conv (no bias) + BatchNorm(eps=0.001) + ReLU, at published width.

    Attributes:
      name: torchvision's module path, e.g. "Mixed_6b.branch7x7_2".
      kernel: (height, width) of the kernel.
      in_channels, out_channels: published widths.
      stride: the same along both axes.
      padding: (rows, columns) of zeros added on each side.
    """

    name: str
    kernel: tuple[int, int]
    in_channels: int
    out_channels: int
    stride: int = 1
    padding: tuple[int, int] = (0, 0)


def _inception_a(block: str, cin: int, pool_features: int) -> tuple[BasicConv, ...]:
    return (
        BasicConv(f"{block}.branch1x1", (1, 1), cin, 64),
        BasicConv(f"{block}.branch5x5_1", (1, 1), cin, 48),
        BasicConv(f"{block}.branch5x5_2", (5, 5), 48, 64, padding=(2, 2)),
        BasicConv(f"{block}.branch3x3dbl_1", (1, 1), cin, 64),
        BasicConv(f"{block}.branch3x3dbl_2", (3, 3), 64, 96, padding=(1, 1)),
        BasicConv(f"{block}.branch3x3dbl_3", (3, 3), 96, 96, padding=(1, 1)),
        BasicConv(f"{block}.branch_pool", (1, 1), cin, pool_features),
    )


def _inception_b(block: str, cin: int) -> tuple[BasicConv, ...]:
    return (
        BasicConv(f"{block}.branch3x3", (3, 3), cin, 384, stride=2),
        BasicConv(f"{block}.branch3x3dbl_1", (1, 1), cin, 64),
        BasicConv(f"{block}.branch3x3dbl_2", (3, 3), 64, 96, padding=(1, 1)),
        BasicConv(f"{block}.branch3x3dbl_3", (3, 3), 96, 96, stride=2),
    )


def _inception_c(block: str, cin: int, c7: int) -> tuple[BasicConv, ...]:
    return (
        BasicConv(f"{block}.branch1x1", (1, 1), cin, 192),
        BasicConv(f"{block}.branch7x7_1", (1, 1), cin, c7),
        BasicConv(f"{block}.branch7x7_2", (1, 7), c7, c7, padding=(0, 3)),
        BasicConv(f"{block}.branch7x7_3", (7, 1), c7, 192, padding=(3, 0)),
        BasicConv(f"{block}.branch7x7dbl_1", (1, 1), cin, c7),
        BasicConv(f"{block}.branch7x7dbl_2", (7, 1), c7, c7, padding=(3, 0)),
        BasicConv(f"{block}.branch7x7dbl_3", (1, 7), c7, c7, padding=(0, 3)),
        BasicConv(f"{block}.branch7x7dbl_4", (7, 1), c7, c7, padding=(3, 0)),
        BasicConv(f"{block}.branch7x7dbl_5", (1, 7), c7, 192, padding=(0, 3)),
        BasicConv(f"{block}.branch_pool", (1, 1), cin, 192),
    )


def _inception_d(block: str, cin: int) -> tuple[BasicConv, ...]:
    return (
        BasicConv(f"{block}.branch3x3_1", (1, 1), cin, 192),
        BasicConv(f"{block}.branch3x3_2", (3, 3), 192, 320, stride=2),
        BasicConv(f"{block}.branch7x7x3_1", (1, 1), cin, 192),
        BasicConv(f"{block}.branch7x7x3_2", (1, 7), 192, 192, padding=(0, 3)),
        BasicConv(f"{block}.branch7x7x3_3", (7, 1), 192, 192, padding=(3, 0)),
        BasicConv(f"{block}.branch7x7x3_4", (3, 3), 192, 192, stride=2),
    )


def _inception_e(block: str, cin: int) -> tuple[BasicConv, ...]:
    return (
        BasicConv(f"{block}.branch1x1", (1, 1), cin, 320),
        BasicConv(f"{block}.branch3x3_1", (1, 1), cin, 384),
        BasicConv(f"{block}.branch3x3_2a", (1, 3), 384, 384, padding=(0, 1)),
        BasicConv(f"{block}.branch3x3_2b", (3, 1), 384, 384, padding=(1, 0)),
        BasicConv(f"{block}.branch3x3dbl_1", (1, 1), cin, 448),
        BasicConv(f"{block}.branch3x3dbl_2", (3, 3), 448, 384, padding=(1, 1)),
        BasicConv(f"{block}.branch3x3dbl_3a", (1, 3), 384, 384, padding=(0, 1)),
        BasicConv(f"{block}.branch3x3dbl_3b", (3, 1), 384, 384, padding=(1, 0)),
        BasicConv(f"{block}.branch_pool", (1, 1), cin, 192),
    )


STEM = (
    BasicConv("Conv2d_1a_3x3", (3, 3), 3, 32, stride=2),
    BasicConv("Conv2d_2a_3x3", (3, 3), 32, 32),
    BasicConv("Conv2d_2b_3x3", (3, 3), 32, 64, padding=(1, 1)),
    # a 3x3 stride-2 max pool here
    BasicConv("Conv2d_3b_1x1", (1, 1), 64, 80),
    BasicConv("Conv2d_4a_3x3", (3, 3), 80, 192),
    # and here
)
# (block name, block kind, its convolutions) in forward order, as pytorch-fid's
# fid_inception_v3() builds them: the kinds are pytorch-fid's FIDInceptionA (avg pool
# without the padded zeros), torchvision's InceptionB, FIDInceptionC, InceptionD,
# FIDInceptionE_1 (avg pool without the padded zeros) and FIDInceptionE_2 (max pool).
MIXED_BLOCKS = (
    ("Mixed_5b", "a", _inception_a("Mixed_5b", 192, 32)),
    ("Mixed_5c", "a", _inception_a("Mixed_5c", 256, 64)),
    ("Mixed_5d", "a", _inception_a("Mixed_5d", 288, 64)),
    ("Mixed_6a", "b", _inception_b("Mixed_6a", 288)),
    ("Mixed_6b", "c", _inception_c("Mixed_6b", 768, 128)),
    ("Mixed_6c", "c", _inception_c("Mixed_6c", 768, 160)),
    ("Mixed_6d", "c", _inception_c("Mixed_6d", 768, 160)),
    ("Mixed_6e", "c", _inception_c("Mixed_6e", 768, 192)),
    ("Mixed_7a", "d", _inception_d("Mixed_7a", 768)),
    ("Mixed_7b", "e_1", _inception_e("Mixed_7b", 1280)),
    ("Mixed_7c", "e_2", _inception_e("Mixed_7c", 2048)),
)
BASIC_CONVS: tuple[BasicConv, ...] = STEM + tuple(
    conv for _, _, convs in MIXED_BLOCKS for conv in convs
)
CONVS_BY_NAME = {conv.name: conv for conv in BASIC_CONVS}
FIRST_KEY = "Conv2d_1a_3x3.conv.kernel"


class InceptionWeightsError(ValueError):
    """The FID Inception weights file is missing, unreadable or not in the layout."""


def expected_shapes(divisor: int = 1) -> dict[str, tuple[int, ...]]:
    """{key: shape} of every array a weights file holds, in forward order, every width
    but the 3 input channels divided by `divisor` (1: the published network)."""
    if divisor not in DIVISORS:
        raise ValueError(
            f"The FID Inception's widths divide by {', '.join(map(str, DIVISORS))}; "
            f"not by {divisor}."
        )
    shapes = {}
    for conv in BASIC_CONVS:
        cin = conv.in_channels if conv.in_channels == 3 else conv.in_channels // divisor
        cout = conv.out_channels // divisor
        shapes[f"{conv.name}.conv.kernel"] = (*conv.kernel, cin, cout)
        for key in BN_KEYS:
            shapes[f"{conv.name}.bn.{key}"] = (cout,)
    return shapes


def _error(path, problem: str) -> InceptionWeightsError:
    return InceptionWeightsError(
        f"FID Inception weights {os.fspath(path)!r}: {problem}. Make the file from "
        f"pytorch-fid's {PUBLISHED_FILE} with `{CONVERT_COMMAND}` (docs/fid.md says "
        "where to get it)."
    )


def width_divisor(path, arrays: dict[str, np.ndarray]) -> int:
    """The divisor of the file's widths, told by its first kernel's output channels."""
    if FIRST_KEY not in arrays:
        raise _error(path, f"missing key {FIRST_KEY!r} (the first convolution)")
    shape = tuple(arrays[FIRST_KEY].shape)
    published = expected_shapes()[FIRST_KEY]
    width = shape[-1] if len(shape) == 4 else 0
    divisor = published[-1] // width if width else 0
    if divisor not in DIVISORS or divisor * width != published[-1]:
        raise _error(path, f"key {FIRST_KEY!r} has shape {shape}, the layout {published}")
    return divisor


def load_inception_weights(path) -> dict[str, np.ndarray]:
    """{key: float32 array} read from the file at `path`, checked against the layout of
    the module docstring (every key present, no other key, every shape right, every
    value finite, no variance negative).

    Raises:
      InceptionWeightsError: the file is missing, unreadable or off the layout (the
        message names the path, the first problem and the conversion command).
    """
    arrays = read_arrays(path, _error)
    divisor = width_divisor(path, arrays)
    shapes = expected_shapes(divisor)
    params = {}
    for key, shape in shapes.items():
        if key not in arrays:
            raise _error(path, f"missing key {key!r}")
        value = arrays[key]
        if tuple(value.shape) != shape:
            raise _error(path, f"key {key!r} has shape {tuple(value.shape)}, the layout {shape}")
        if not np.issubdtype(value.dtype, np.floating):
            raise _error(path, f"key {key!r} holds {value.dtype} values, not floats")
        value = np.asarray(value, np.float32)
        if not np.all(np.isfinite(value)):
            raise _error(path, f"key {key!r} holds non-finite values")
        if key.endswith(".running_var") and value.min() < 0:
            raise _error(path, f"key {key!r} holds a negative variance")
        params[key] = value
    unexpected = sorted(set(arrays) - set(shapes))
    if unexpected:
        raise _error(
            path,
            f"unexpected key {unexpected[0]!r} ({len(unexpected)} key(s) not in the layout)",
        )
    return params


def save_inception_weights(path, params: dict[str, np.ndarray]) -> None:
    """Writes `params` ({key: array} in the layout of the module docstring) to `path`,
    .safetensors (needs the safetensors package) or .npz by its suffix."""
    write_arrays(path, params, "FID Inception weights")


def random_inception_weights(divisor: int = 1, seed: int = 0) -> dict[str, np.ndarray]:
    """Random weights in the layout, widths divided by `divisor`: He-scaled kernels and
    BatchNorm statistics away from identity (gamma around 1, beta, means and variances
    that differ per channel), so that a test exercises every array. For tests, which must
    not depend on the published file."""
    rng = np.random.default_rng(seed)
    params = {}
    for key, shape in expected_shapes(divisor).items():
        if key.endswith(".kernel"):
            fan_in = shape[0] * shape[1] * shape[2]
            value = rng.normal(0, np.sqrt(2 / fan_in), shape)
        elif key.endswith(".bn.weight"):
            value = rng.uniform(0.5, 1.5, shape)
        elif key.endswith(".bn.running_var"):
            value = rng.uniform(0.5, 2.0, shape)
        else:  # bias, running_mean
            value = rng.normal(0, 0.1, shape)
        params[key] = value.astype(np.float32)
    return params
