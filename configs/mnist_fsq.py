r"""Finite scalar quantisation (Mentzer et al., 2023) on MNIST: 16 code vectors of 4 values
with levels (8, 5, 5, 5), an implicit codebook of 1,000 codes (9.97 bits per vector,
159.5 bits per image), each example's values RMS-normalised before the bound
(`model.normalize`, the default: without it the encoder's outputs drift to |z| >> 1, the
bound saturates and the codes collapse to the grid's corners), the set-up of
configs/mnist_vq.py (shared: configs/_quantized_mnist.py).

  python experiments/train.py --config=configs/mnist_fsq.py --workdir=runs/mnist_fsq
  python experiments/evaluate.py --workdir=runs/mnist_fsq --step=best

Arguments (comma-separated, each optional): `data=mnist|fashion_mnist`, `steps=<n>`
(default 1500), `smoke`; e.g. `:data=fashion_mnist`.

Result (measured 2026-12-02, 2-core AMD EPYC shared with other jobs): a common CPU
budget of 1,000 steps for the four quantisers (`:steps=1000`, 2.4 epochs, below the
1,500-step default; the train command took 1171 s, the evaluate command 143 s, trained
at commit bb02482, evaluated at 3df89eb, the same model code), checkpoint chosen on the
validation split: test MSE 0.00772 (PSNR 21.76 dB), codebook utilisation 1.000,
perplexity 810.4, 0 dead codes (`python experiments/train.py
--config=configs/mnist_fsq.py:steps=1000 --workdir=runs/q3/mnist_fsq`, then `python
experiments/evaluate.py --workdir=runs/q3/mnist_fsq --step=best
--evals=reconstruction,codebook,cost`). Fashion-MNIST, same budget
(`:data=fashion_mnist,steps=1000`, workdir runs/q3/fashion_mnist_fsq; train command 1114
s, evaluate 102 s, evaluated at commit a2621ae): test MSE 0.01234 (PSNR 19.70 dB),
utilisation 1.000, perplexity 810.1, 0 dead codes. docs/quantizers.md compares the four
(and the 250-step runs of commit 5831220).

At the 1,500-step default (3.6 epochs; measured 2026-12-03, commit 3264a97, 2-core AMD
EPYC shared with one other training run; the train command above took 281 s, 257 s of it
training, the evaluate command 13 s), the checkpoint chosen on the validation split,
step 1,500: test MSE 0.00667 (PSNR 22.38 dB; the VQ of configs/mnist_vq.py in the same
budget: 0.00662, 22.36 dB), codebook utilisation 1.000, perplexity 797.7, 0 dead codes.
"""

from aelab.configs._quantized_mnist import quantized_config


def get_config(arg: str | None = None):
    return quantized_config(arg, "fsq", code_dim=4, fields={"levels": (8, 5, 5, 5)})
