r"""Lookup-free quantisation (MAGVIT-v2, Yu et al., 2023) on MNIST: 16 code vectors of 10
signs, an implicit codebook of 2^10 = 1024 codes (10 bits per vector, 160 bits per
image), with the entropy penalty (weight 0.1, summed over the code vectors) and
commitment loss; the set-up of configs/mnist_vq.py (shared:
configs/_quantized_mnist.py).

  python experiments/train.py --config=configs/mnist_lfq.py --workdir=runs/mnist_lfq
  python experiments/evaluate.py --workdir=runs/mnist_lfq --step=best

Arguments (comma-separated, each optional): `data=mnist|fashion_mnist`, `steps=<n>`
(default 1500), `smoke`; e.g. `:data=fashion_mnist`.

Result (measured 2026-12-02, 2-core AMD EPYC shared with other jobs): a common CPU
budget of 1,000 steps for the four quantisers (`:steps=1000`, 2.4 epochs, below the
1,500-step default; the train command took 1244 s, the evaluate command 167 s, trained
at commit bb02482, evaluated at 3df89eb, the same model code), checkpoint chosen on the
validation split: test MSE 0.01113 (PSNR 20.02 dB), codebook utilisation 1.000,
perplexity 926.3, 0 dead codes (`python experiments/train.py
--config=configs/mnist_lfq.py:steps=1000 --workdir=runs/q3/mnist_lfq`, then `python
experiments/evaluate.py --workdir=runs/q3/mnist_lfq --step=best
--evals=reconstruction,codebook,cost`). docs/quantizers.md compares the four (and the
250-step runs of commit 5831220).
Fashion-MNIST (`:data=fashion_mnist,steps=1000`, workdir runs/q3/fashion_mnist_lfq;
train command 317 s, evaluate command 34 s, main at f13cc04): test MSE 0.01424 (PSNR
19.02 dB), utilisation 1.000, perplexity 769.1, 0 dead codes.

At the 1,500-step default (3.6 epochs; measured 2026-12-03, commit f7c68bc, 2-core AMD
EPYC shared with one other training run; the train command above took 223 s, 202 s of it
training, the evaluate command 15 s), the checkpoint chosen on the validation split,
step 1,500: test MSE 0.00976 (PSNR 20.61 dB; the VQ of configs/mnist_vq.py in the same
budget: 0.00662, 22.36 dB, so LFQ is 1.75 dB behind), codebook utilisation 1.000,
perplexity 942.5, 0 dead codes.
"""

from aelab.configs._quantized_mnist import quantized_config


def get_config(arg: str | None = None):
    fields = {"entropy_weight": 0.1, "commitment_cost": 0.25}
    return quantized_config(arg, "lfq", code_dim=10, fields=fields)
