"""The LPIPS weights file: its key layout, reading it back and writing it.

LPIPS (Zhang et al., 2018) needs two sets of weights: the ImageNet-trained feature
network (VGG16 or AlexNet, from torchvision) and the learned non-negative 1x1 "lin"
layers of LPIPS v0.1 (richzhang/PerceptualSimilarity, `weights/v0.1/vgg.pth`,
`alex.pth`). aelab reads both from one local file, `.safetensors` or `.npz`, that
tools/convert_lpips_weights.py writes from those two PyTorch files (docs/perceptual.md);
nothing is downloaded. The layout (float32 arrays, kernels in HWIO order for
`jax.lax.conv_general_dilated` with NHWC images):

  vgg16:   conv{s}_{k}.kernel [3, 3, in, out], conv{s}_{k}.bias [out] for the 13
           convolutions conv1_1 ... conv5_3 (torchvision's features.0 ... features.28);
  alexnet: conv{i}.kernel [k, k, in, out], conv{i}.bias [out], i = 1..5 (features.0,
           3, 6, 8, 10);
  both:    lin{l}.weight [channels_l] for l = 0..4: the lin layer of feature layer l
           (LPIPS's lin{l}.model.1.weight [1, channels_l, 1, 1], flattened).

The network is told by the keys (conv1_1.kernel: vgg16; conv1.kernel: alexnet). Files
whose every width is the published one divided by the same whole number (the tests'
small random networks) are read too; the published files have divisor 1. A
missing, unreadable or mismatched file raises `LpipsWeightsError`, naming the path, the
first problem and the command that makes the file.
"""

from __future__ import annotations

import os

import numpy as np

from aelab.core.weights_file import read_arrays, write_arrays

CONVERT_COMMAND = (
    "python tools/convert_lpips_weights.py --network=vgg16 "
    "--backbone=vgg16-397923af.pth --lin=vgg.pth --output=lpips_vgg16.safetensors"
)

# (name, kernel side, in channels, out channels) of each convolution, in order.
VGG16_CONVS = (
    ("conv1_1", 3, 3, 64),
    ("conv1_2", 3, 64, 64),
    ("conv2_1", 3, 64, 128),
    ("conv2_2", 3, 128, 128),
    ("conv3_1", 3, 128, 256),
    ("conv3_2", 3, 256, 256),
    ("conv3_3", 3, 256, 256),
    ("conv4_1", 3, 256, 512),
    ("conv4_2", 3, 512, 512),
    ("conv4_3", 3, 512, 512),
    ("conv5_1", 3, 512, 512),
    ("conv5_2", 3, 512, 512),
    ("conv5_3", 3, 512, 512),
)
ALEXNET_CONVS = (
    ("conv1", 11, 3, 64),
    ("conv2", 5, 64, 192),
    ("conv3", 3, 192, 384),
    ("conv4", 3, 384, 256),
    ("conv5", 3, 256, 256),
)
CONVS = {"vgg16": VGG16_CONVS, "alexnet": ALEXNET_CONVS}
# Channels of the five feature layers LPIPS compares (relu1_2 ... relu5_3 for VGG16,
# relu1 ... relu5 for AlexNet).
LAYER_CHANNELS = {"vgg16": (64, 128, 256, 512, 512), "alexnet": (64, 192, 384, 256, 256)}
NETWORKS = tuple(CONVS)


class LpipsWeightsError(ValueError):
    """The LPIPS weights file is missing, unreadable or not in the expected layout."""


def expected_shapes(network: str, divisor: int = 1) -> dict[str, tuple[int, ...]]:
    """{key: shape} of every array a weights file for `network` holds, with every width
    but the 3 input channels divided by `divisor` (1: the published networks)."""
    if network not in CONVS:
        raise ValueError(f"Unknown LPIPS network {network!r}; choose one of {', '.join(NETWORKS)}.")
    shapes = {}
    for name, side, cin, cout in CONVS[network]:
        cin = cin if cin == 3 else cin // divisor
        shapes[f"{name}.kernel"] = (side, side, cin, cout // divisor)
        shapes[f"{name}.bias"] = (cout // divisor,)
    for layer, channels in enumerate(LAYER_CHANNELS[network]):
        shapes[f"lin{layer}.weight"] = (channels // divisor,)
    return shapes


def _error(path, problem: str) -> LpipsWeightsError:
    return LpipsWeightsError(
        f"LPIPS weights {os.fspath(path)!r}: {problem}. Make the file from torchvision's "
        f"backbone and LPIPS's v0.1 lin weights with `{CONVERT_COMMAND}` (docs/perceptual.md "
        "says where to get the two files)."
    )


def load_lpips_weights(path) -> tuple[str, dict[str, np.ndarray]]:
    """(network name, {key: float32 array}) read from the file at `path`, checked
    against the layout of the module docstring.

    Raises:
      LpipsWeightsError: the file is missing, unreadable, of an unknown network, or a
        key is missing or has the wrong shape (the message names the path, the key and
        the conversion command).
    """
    arrays = read_arrays(path, _error)
    if "conv1_1.kernel" in arrays:
        network, first = "vgg16", "conv1_1.kernel"
    elif "conv1.kernel" in arrays:
        network, first = "alexnet", "conv1.kernel"
    else:
        raise _error(path, "missing key 'conv1_1.kernel' (vgg16) or 'conv1.kernel' (alexnet)")
    width = arrays[first].shape[-1] if arrays[first].ndim == 4 else 0
    divisor = CONVS[network][0][3] // width if width else 0
    if not divisor or divisor * width != CONVS[network][0][3]:
        raise _error(
            path,
            f"key {first!r} has shape {tuple(arrays[first].shape)}, not the {network} "
            f"layout {expected_shapes(network)[first]}",
        )
    params = {}
    for key, shape in expected_shapes(network, divisor).items():
        if key not in arrays:
            raise _error(path, f"missing key {key!r} of the {network} layout")
        value = arrays[key]
        if tuple(value.shape) != shape:
            raise _error(
                path, f"key {key!r} has shape {tuple(value.shape)}, the {network} layout {shape}"
            )
        params[key] = np.asarray(value, np.float32)
    return network, params


def save_lpips_weights(path, params: dict[str, np.ndarray]) -> None:
    """Writes `params` ({key: array} in the layout of the module docstring) to `path`,
    .safetensors (needs the safetensors package) or .npz by its suffix."""
    write_arrays(path, params, "LPIPS weights")


def random_lpips_weights(network: str, divisor: int = 1, seed: int = 0) -> dict[str, np.ndarray]:
    """Random weights in the layout (He-scaled kernels, small biases, non-negative lin
    weights), widths divided by `divisor`: for tests, which must not depend on the
    published file."""
    rng = np.random.default_rng(seed)
    params = {}
    for key, shape in expected_shapes(network, divisor).items():
        if key.endswith(".kernel"):
            fan_in = shape[0] * shape[1] * shape[2]
            params[key] = rng.normal(0, np.sqrt(2 / fan_in), shape).astype(np.float32)
        elif key.endswith(".bias"):
            params[key] = rng.normal(0, 0.01, shape).astype(np.float32)
        else:
            params[key] = rng.uniform(0, 1, shape).astype(np.float32) / shape[0]
    return params
