r"""A VQ-VAE on MNIST at the bits per image of configs/mnist_fsq.py, mnist_rvq.py and
mnist_lfq.py (the shared set-up: configs/_quantized_mnist.py): 16 code vectors of 4
values, each the nearest of K = 1024 EMA-learned codes with dead-code restarts (10
bits per vector, 160 bits per image).

  python experiments/train.py --config=configs/mnist_vq.py --workdir=runs/mnist_vq
  python experiments/evaluate.py --workdir=runs/mnist_vq --step=best

Arguments (comma-separated, each optional): `data=mnist|fashion_mnist`, `steps=<n>`
(default 1500), `smoke`; e.g. `:data=fashion_mnist`.

Result (measured 2026-12-02, commit 5831220, 2-core AMD EPYC shared with other jobs): a
short CPU budget, 250 steps (`:steps=250`, about half an epoch; the train command took
200 s, the evaluate command 68 s), checkpoint chosen on the validation split: test MSE
0.02630 (PSNR 16.18 dB), codebook utilisation 0.999, perplexity 576.4, 1 dead codes
(`python experiments/evaluate.py --workdir=runs/q2/mnist_vq --step=best
--evals=reconstruction,codebook,cost`). docs/quantizers.md compares the four; the
default 1,500 steps are not measured yet.
"""

from aelab.configs._quantized_mnist import quantized_config


def get_config(arg: str | None = None):
    fields = {"codebook_size": 1024, "ema_decay": 0.99, "restart_threshold": 0.01}
    return quantized_config(arg, "vq", code_dim=4, fields=fields)
