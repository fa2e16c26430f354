r"""A VQ-VAE on MNIST at the bits per image of configs/mnist_fsq.py, mnist_rvq.py and
mnist_lfq.py (the shared set-up: configs/_quantized_mnist.py): 16 code vectors of 4
values, each the nearest of K = 1024 EMA-learned codes with dead-code restarts (10 bits
per vector, 160 bits per image).

  python experiments/train.py --config=configs/mnist_vq.py --workdir=runs/mnist_vq
  python experiments/evaluate.py --workdir=runs/mnist_vq --step=best

Arguments (comma-separated, each optional): `data=mnist|fashion_mnist`, `steps=<n>`
(default 1500), `smoke`; e.g. `:data=fashion_mnist`.

Result (measured 2026-12-02, 2-core AMD EPYC shared with other jobs): a common CPU
budget of 1,000 steps for the four quantisers (`:steps=1000`, 2.4 epochs, below the
1,500-step default; the train command took 1037 s, the evaluate command 160 s, commit
3c7a0dc), checkpoint chosen on the validation split: test MSE 0.00806 (PSNR 21.53 dB),
codebook utilisation 1.000, perplexity 920.9, 0 dead codes (`python experiments/train.py
--config=configs/mnist_vq.py:steps=1000 --workdir=runs/q3/mnist_vq`, then `python
experiments/evaluate.py --workdir=runs/q3/mnist_vq --step=best
--evals=reconstruction,codebook,cost`). Fashion-MNIST, same budget
(`:data=fashion_mnist,steps=1000`, workdir runs/q3/fashion_mnist_vq; train command 1211
s, evaluate 86 s, evaluated at commit a2621ae): test MSE 0.01218 (PSNR 19.82 dB),
utilisation 1.000, perplexity 927.3, 0 dead codes. docs/quantizers.md compares the four
(and the 250-step runs of commit 5831220).

At the 1,500-step default (3.6 epochs; measured 2026-12-03, commit 2708edf, 2-core AMD
EPYC shared with one other training run; the train command above took 282 s, 257 s of it
training, the evaluate command 15 s), the checkpoint chosen on the validation split,
step 1,500: test MSE 0.00662 (PSNR 22.36 dB), codebook utilisation 1.000, perplexity
967.8, 0 dead codes.
"""

from aelab.configs._quantized_mnist import quantized_config


def get_config(arg: str | None = None):
    fields = {"codebook_size": 1024, "ema_decay": 0.99, "restart_threshold": 0.01}
    return quantized_config(arg, "vq", code_dim=4, fields=fields)
