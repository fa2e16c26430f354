r"""A residual VAE on Fashion-MNIST: pre-activation GroupNorm blocks, 28 -> 14 -> 7.

Needs Fashion-MNIST's IDX .gz files under $AELAB_DATA_DIR/fashion_mnist:

  python experiments/train.py --config=configs/fashion_mnist_resnet_vae.py \
      --workdir=runs/fashion_mnist_resnet_vae

Smoke version: --config=configs/fashion_mnist_resnet_vae.py:smoke

Result (measured 2026-11-24, evaluated at commit 1476ea5, 2-core CPU shared with other
jobs): a shortened CPU budget, 35 of 10,000 steps (0.07 epochs; 87 s of training, 0.40
steps/s under load; the run was stopped by SIGTERM, which checkpoints): test MSE per
value 0.03679, PSNR 14.6 dB, SSIM 0.370 (`python experiments/evaluate.py
--workdir=runs/models/fashion_mnist_resnet_vae --step=latest
--evals=reconstruction,cost`). This shows that the config trains, not what its full
10,000 steps reach.
"""

from aelab.config import base_config, check_variant, make_smoke


def get_config(arg: str | None = None):
    variant = check_variant(arg)
    config = base_config(
        data="fashion_mnist",
        model="resnet_vae",
        objective="elbo",
        likelihood="bernoulli",
        optimizer="adam",
        schedule="cosine",
    )
    config.data.batch_size = 128
    config.data.eval_batch_size = 1000

    config.model.channels = (32, 64, 64)
    config.model.blocks_per_stage = 1
    config.model.norm = "group"
    config.model.num_groups = 8
    config.model.activation = "silu"
    config.model.latent_dim = 32

    config.optimizer.learning_rate = 1e-3
    config.optimizer.end_lr_factor = 0.05

    config.train.num_steps = 10_000
    config.train.log_every = 200
    config.train.eval_every = 2_000
    config.train.checkpoint_every = 2_000
    config.train.steps_per_call = 1
    if variant == "smoke":
        make_smoke(config, num_steps=10)
        config.data.eval_batch_size = 128
        config.train.eval_examples = 128
    return config
