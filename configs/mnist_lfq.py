r"""Lookup-free quantisation (MAGVIT-v2, Yu et al., 2023) on MNIST: 16 code vectors of
10 signs, an implicit codebook of 2^10 = 1024 codes (10 bits per vector, 160 bits per
image), with the entropy penalty (weight 0.1) and commitment loss; the set-up of
configs/mnist_vq.py (shared: configs/_quantized_mnist.py).

  python experiments/train.py --config=configs/mnist_lfq.py --workdir=runs/mnist_lfq
  python experiments/evaluate.py --workdir=runs/mnist_lfq --step=best

Arguments (comma-separated, each optional): `data=mnist|fashion_mnist`, `steps=<n>`
(default 1500), `smoke`; e.g. `:data=fashion_mnist`.

Result (measured 2026-12-02, commit 5831220, 2-core AMD EPYC shared with other jobs): a
short CPU budget, 250 steps (`:steps=250`, about half an epoch; the train command took
208 s, the evaluate command 51 s), checkpoint chosen on the validation split: test MSE
0.04187 (PSNR 14.01 dB), codebook utilisation 0.854, perplexity 204.0, 150 dead codes
(`python experiments/evaluate.py --workdir=runs/q2/mnist_lfq --step=best
--evals=reconstruction,codebook,cost`). docs/quantizers.md compares the four; the
default 1,500 steps are not measured yet.
"""

from aelab.configs._quantized_mnist import quantized_config


def get_config(arg: str | None = None):
    fields = {"entropy_weight": 0.1, "commitment_cost": 0.25}
    return quantized_config(arg, "lfq", code_dim=10, fields=fields)
