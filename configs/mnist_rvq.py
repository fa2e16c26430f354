r"""Residual VQ (SoundStream, Zeghidour et al., 2021) on MNIST: 16 code vectors of 4
values, each the sum of 2 stages of K = 32 EMA-learned codes (2 x 5 = 10 bits per
vector, 160 bits per image), with quantiser dropout; the set-up of configs/mnist_vq.py
(shared: configs/_quantized_mnist.py).

  python experiments/train.py --config=configs/mnist_rvq.py --workdir=runs/mnist_rvq
  python experiments/evaluate.py --workdir=runs/mnist_rvq --step=best

Arguments (comma-separated, each optional): `data=mnist|fashion_mnist`, `steps=<n>`
(default 1500), `smoke`; e.g. `:data=fashion_mnist`.

Result (measured 2026-12-02, commit 5831220, 2-core AMD EPYC shared with other jobs): a
short CPU budget, 250 steps (`:steps=250`, about half an epoch; the train command took
195 s, the evaluate command 47 s), checkpoint chosen on the validation split: test MSE
0.02768 (PSNR 15.95 dB), codebook utilisation 1.000 / 1.000 and perplexity 27.4 / 28.9
of 32 (stage 0 / 1) (`python experiments/evaluate.py --workdir=runs/q2/mnist_rvq
--step=best --evals=reconstruction,codebook,cost`). docs/quantizers.md compares the
four; the default 1,500 steps are not measured yet.
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
