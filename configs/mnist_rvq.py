r"""Residual VQ (SoundStream, Zeghidour et al., 2021) on MNIST: 16 code vectors of 4 values,
each the sum of 2 stages of K = 32 EMA-learned codes (2 x 5 = 10 bits per vector, 160
bits per image), with quantiser dropout; the set-up of configs/mnist_vq.py (shared:
configs/_quantized_mnist.py).

  python experiments/train.py --config=configs/mnist_rvq.py --workdir=runs/mnist_rvq
  python experiments/evaluate.py --workdir=runs/mnist_rvq --step=best

Arguments (comma-separated, each optional): `data=mnist|fashion_mnist`, `steps=<n>`
(default 1500), `smoke`; e.g. `:data=fashion_mnist`.

Result (measured 2026-12-02, 2-core AMD EPYC shared with other jobs): a common CPU
budget of 1,000 steps for the four quantisers (`:steps=1000`, 2.4 epochs, below the
1,500-step default; the train command took 907 s, the evaluate command 181 s, commit
3c7a0dc), checkpoint chosen on the validation split: test MSE 0.00813 (PSNR 21.54 dB),
codebook utilisation 1.000 (both stages 1.000 / 1.000), perplexity 31.1, 0 dead codes
(`python experiments/train.py --config=configs/mnist_rvq.py:steps=1000
--workdir=runs/q3/mnist_rvq`, then `python experiments/evaluate.py
--workdir=runs/q3/mnist_rvq --step=best --evals=reconstruction,codebook,cost`).
docs/quantizers.md compares the four (and the 250-step runs of commit 5831220).
Fashion-MNIST (`:data=fashion_mnist,steps=1000`, workdir runs/q3/fashion_mnist_rvq;
train command 284 s, evaluate command 44 s, main at f13cc04): test MSE 0.01251 (PSNR
19.70 dB), utilisation 1.000 (stages 1.000 / 1.000), 0 dead codes.

At the 1,500-step default (3.6 epochs; measured 2026-12-03, commit f7c68bc, 2-core AMD
EPYC shared with one other training run; the train command above took 201 s, 179 s of it
training, the evaluate command 15 s), the checkpoint chosen on the validation split,
step 1,500: test MSE 0.00671 (PSNR 22.38 dB; the VQ of configs/mnist_vq.py in the same
budget: 0.00662, 22.36 dB), codebook utilisation 1.000, perplexity 31.2 of each stage's
32 codes, 0 dead codes.
"""

from aelab.configs._quantized_mnist import quantized_config


def get_config(arg: str | None = None):
    fields = {
        "codebook_size": 32,
        "num_stages": 2,
        "quantizer_dropout": True,
        "ema_decay": 0.99,
        "restart_threshold": 0.01,
    }
    return quantized_config(arg, "rvq", code_dim=4, fields=fields)
