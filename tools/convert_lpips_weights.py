"""Converts the published LPIPS weights (PyTorch) to aelab's weights file.

LPIPS needs two files, neither of which aelab downloads (docs/perceptual.md):

  - the ImageNet backbone from torchvision: vgg16-397923af.pth
    (https://download.pytorch.org/models/vgg16-397923af.pth) or alexnet-owt-7be5be79.pth
    (https://download.pytorch.org/models/alexnet-owt-7be5be79.pth);
  - LPIPS v0.1's lin layers from richzhang/PerceptualSimilarity:
    lpips/weights/v0.1/vgg.pth or alex.pth (also inside the `lpips` pip package).

  python tools/convert_lpips_weights.py --network=vgg16 \
      --backbone=vgg16-397923af.pth --lin=vgg.pth --output=lpips_vgg16.safetensors

writes the layout of `aelab.objectives.lpips_weights` (.safetensors, or .npz by the
output's suffix) and reads it back to check it. Needs PyTorch (to read the .pth files);
aelab itself does not.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from aelab.objectives.lpips_weights import CONVS, load_lpips_weights, save_lpips_weights

# torchvision's `features.<index>` of each convolution, in the order of CONVS.
TORCHVISION_INDICES = {
    "vgg16": (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28),
    "alexnet": (0, 3, 6, 8, 10),
}


def convert(network: str, backbone: dict, lin: dict) -> dict[str, np.ndarray]:
    """aelab's {key: array} from torchvision's state dict `backbone` and LPIPS's lin
    state dict `lin` (both {name: array-like}, e.g. torch tensors as NumPy arrays)."""
    params = {}
    for (name, *_), index in zip(CONVS[network], TORCHVISION_INDICES[network], strict=True):
        weight = np.asarray(backbone[f"features.{index}.weight"], np.float32)
        params[f"{name}.kernel"] = weight.transpose(2, 3, 1, 0)  # OIHW -> HWIO
        params[f"{name}.bias"] = np.asarray(backbone[f"features.{index}.bias"], np.float32)
    for layer in range(5):
        weight = np.asarray(lin[f"lin{layer}.model.1.weight"], np.float32)  # [1, C, 1, 1]
        params[f"lin{layer}.weight"] = weight.reshape(-1)
    return params


def _load_torch(path: str) -> dict[str, np.ndarray]:
    import torch

    state = torch.load(path, map_location="cpu", weights_only=True)
    return {name: value.numpy() for name, value in state.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", choices=sorted(CONVS), default="vgg16")
    parser.add_argument("--backbone", required=True, help="torchvision's .pth state dict")
    parser.add_argument("--lin", required=True, help="LPIPS v0.1's lin weights (vgg.pth)")
    parser.add_argument("--output", required=True, help="a .safetensors or .npz path")
    args = parser.parse_args(argv)
    params = convert(args.network, _load_torch(args.backbone), _load_torch(args.lin))
    save_lpips_weights(args.output, params)
    network, _ = load_lpips_weights(args.output)
    print(f"Wrote {args.output}: LPIPS-{network}, {len(params)} arrays.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
