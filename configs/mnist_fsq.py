r"""Finite scalar quantisation (Mentzer et al., 2023) on MNIST: 16 code vectors of 4
values with levels (8, 5, 5, 5), an implicit codebook of 1,000 codes (9.97 bits per
vector, 159.5 bits per image), the set-up of configs/mnist_vq.py (shared:
configs/_quantized_mnist.py).

  python experiments/train.py --config=configs/mnist_fsq.py --workdir=runs/mnist_fsq
  python experiments/evaluate.py --workdir=runs/mnist_fsq --step=best

Arguments (comma-separated, each optional): `data=mnist|fashion_mnist`, `steps=<n>`
(default 1500), `smoke`; e.g. `:data=fashion_mnist`.

Result: not measured yet.
"""

from aelab.configs._quantized_mnist import quantized_config


def get_config(arg: str | None = None):
    return quantized_config(arg, "fsq", code_dim=4, fields={"levels": (8, 5, 5, 5)})
