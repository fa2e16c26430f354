r"""Finite scalar quantisation (Mentzer et al., 2023) on MNIST: 16 code vectors of 4
values with levels (8, 5, 5, 5), an implicit codebook of 1,000 codes (9.97 bits per
vector, 159.5 bits per image), the set-up of configs/mnist_vq.py (shared:
configs/_quantized_mnist.py).

  python experiments/train.py --config=configs/mnist_fsq.py --workdir=runs/mnist_fsq
  python experiments/evaluate.py --workdir=runs/mnist_fsq --step=best

Arguments (comma-separated, each optional): `data=mnist|fashion_mnist`, `steps=<n>`
(default 1500), `smoke`; e.g. `:data=fashion_mnist`.

Result (measured 2026-12-02, commit 5831220, 2-core AMD EPYC shared with other jobs): a
short CPU budget, 250 steps (`:steps=250`, about half an epoch; the train command took
307 s, the evaluate command 49 s), checkpoint chosen on the validation split: test MSE
0.06763 (PSNR 11.85 dB), codebook utilisation 0.011, perplexity 10.0, 989 dead codes
(`python experiments/evaluate.py --workdir=runs/q2/mnist_fsq --step=best
--evals=reconstruction,codebook,cost`). docs/quantizers.md compares the four; the
default 1,500 steps are not measured yet.
"""

from aelab.configs._quantized_mnist import quantized_config


def get_config(arg: str | None = None):
    return quantized_config(arg, "fsq", code_dim=4, fields={"levels": (8, 5, 5, 5)})
