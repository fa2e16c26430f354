"""Converts pytorch-fid's FID Inception weights (PyTorch) to aelab's weights file.

aelab never downloads them (docs/fid.md). On a machine with network access, fetch
pytorch-fid's release asset by hand:

  https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth

(the TF-FID graph's `inception-2015-12-05` weights, ported to PyTorch by pytorch-fid;
pytorch-fid caches the same file under ~/.cache/torch/hub/checkpoints/), then

  python tools/convert_inception_weights.py \
      --input=pt_inception-2015-12-05-6726825d.pth --output=fid_inception.safetensors

writes the layout of `aelab.evaluation.inception_weights` (.safetensors, or .npz by the
output's suffix) and reads it back to check it. Every convolution kernel is transposed
from OIHW to HWIO; the BatchNorm arrays are copied unchanged (nothing is folded); the
classifier (`fc.weight`, `fc.bias`) and the `num_batches_tracked` counters are left out,
and the script says so. Any other key, a missing one, or a classifier without the FID
graph's 1008 classes (torchvision's ImageNet Inception has 1000 and other weights: its
features do not give FID) is refused. Needs PyTorch (to read the .pth file); aelab
itself does not.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys

import numpy as np

from aelab.evaluation.inception_weights import (
    BASIC_CONVS,
    BN_KEYS,
    PUBLISHED_FILE,
    PUBLISHED_URL,
    load_inception_weights,
    save_inception_weights,
)

FID_CLASSES = 1008  # the 2015-12-05 graph's classifier: 1,000 ImageNet classes + 8 unused
LEFT_OUT = ("fc.weight", "fc.bias")
# torch.hub names a published file <name>-<first digits of its SHA-256>.<suffix>.
PUBLISHED_SHA256_PREFIX = re.search(r"-([0-9a-f]{8,})\.", PUBLISHED_FILE).group(1)


class ConversionError(ValueError):
    """The state dict is not pytorch-fid's FID Inception."""


def convert(state: dict) -> dict[str, np.ndarray]:
    """aelab's {key: array} from pytorch-fid's FID Inception state dict `state`
    ({name: array-like}, e.g. torch tensors as NumPy arrays).

    Raises:
      ConversionError: a key is missing or unknown, or the classifier does not have the
        FID graph's 1008 classes.
    """
    fc = state.get("fc.weight")
    if fc is None:
        raise ConversionError(
            "no 'fc.weight': not a state dict of the FID Inception "
            f"({PUBLISHED_FILE}, {PUBLISHED_URL})"
        )
    if np.shape(fc)[0] != FID_CLASSES or any(k.startswith("AuxLogits.") for k in state):
        raise ConversionError(
            f"'fc.weight' has shape {tuple(np.shape(fc))} (FID's Inception: {FID_CLASSES} "
            "classes, no AuxLogits): this looks like torchvision's ImageNet Inception, whose "
            f"features do not give FID; convert pytorch-fid's {PUBLISHED_FILE}"
        )
    params, used = {}, set(LEFT_OUT)
    for conv in BASIC_CONVS:
        weight = f"{conv.name}.conv.weight"
        names = [weight, *(f"{conv.name}.bn.{key}" for key in BN_KEYS)]
        missing = [name for name in names if name not in state]
        if missing:
            raise ConversionError(f"missing key {missing[0]!r} of the FID Inception")
        params[f"{conv.name}.conv.kernel"] = np.asarray(state[weight], np.float32).transpose(
            2, 3, 1, 0
        )  # OIHW -> HWIO
        for key in BN_KEYS:
            params[f"{conv.name}.bn.{key}"] = np.asarray(state[f"{conv.name}.bn.{key}"], np.float32)
        used.update(names)
        used.add(f"{conv.name}.bn.num_batches_tracked")
    unknown = sorted(set(state) - used)
    if unknown:
        raise ConversionError(
            f"unknown key {unknown[0]!r} ({len(unknown)} key(s) not in the FID Inception)"
        )
    return params


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _load_torch(path: str) -> dict[str, np.ndarray]:
    import torch

    state = torch.load(path, map_location="cpu", weights_only=True)
    return {name: value.numpy() for name, value in state.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", required=True, help=f"pytorch-fid's {PUBLISHED_FILE}")
    parser.add_argument("--output", required=True, help="a .safetensors or .npz path")
    args = parser.parse_args(argv)
    if not os.path.isfile(args.input):
        print(f"{args.input}: no such file; download it from {PUBLISHED_URL}", file=sys.stderr)
        return 1
    state = _load_torch(args.input)
    try:
        params = convert(state)
    except ConversionError as error:
        print(f"{args.input}: {error}.", file=sys.stderr)
        return 1
    save_inception_weights(args.output, params)
    load_inception_weights(args.output)
    left_out = [key for key in LEFT_OUT if key in state]
    counters = sum(key.endswith(".num_batches_tracked") for key in state)
    if counters:
        left_out.append(f"{counters} BatchNorm num_batches_tracked counters")
    print(
        f"Wrote {args.output}: {len(BASIC_CONVS)} BasicConv2d layers, {len(params)} arrays "
        f"(kernels OIHW -> HWIO, BatchNorm unfolded); left out: {', '.join(left_out)}."
    )
    digest = sha256_of(args.input)
    if digest.startswith(PUBLISHED_SHA256_PREFIX):
        print(f"{args.input}: SHA-256 {digest[:16]}... matches the published file's name.")
    else:
        print(
            f"{args.input}: SHA-256 {digest[:16]}... does not start with "
            f"{PUBLISHED_SHA256_PREFIX}, the digits torch.hub's naming puts in the published "
            f"{PUBLISHED_FILE}: check that this is the published file, or FIDs computed "
            "with it are not comparable to published ones."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
