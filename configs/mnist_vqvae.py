r"""A VQ-VAE on MNIST: conv encoder/decoder, 16 codes of 8 dims from a 128-entry EMA codebook.

Needs MNIST's IDX .gz files under $AELAB_DATA_DIR/mnist:

  python experiments/train.py --config=configs/mnist_vqvae.py \
      --workdir=runs/mnist_vqvae

Smoke version: --config=configs/mnist_vqvae.py:smoke

Result (measured 2026-11-24, evaluated at commit 4e5448d, 2-core CPU shared with other
jobs): a shortened CPU budget, 135 of 10,000 steps (0.29 epochs; 68 s of training, 1.99
steps/s under load; the run was stopped by SIGTERM, which checkpoints): test MSE per
value 0.04449, PSNR 13.8 dB, SSIM 0.404 (`python experiments/evaluate.py
--workdir=runs/models/mnist_vqvae --step=latest --evals=reconstruction,cost`). This shows
that the config trains, not what its full 10,000 steps reach.
"""

from aelab.config import base_config, check_variant, make_smoke


def get_config(arg: str | None = None):
    variant = check_variant(arg)
    config = base_config(
        data="mnist",
        model="conv_vqvae",
        objective="reconstruction",
        likelihood="bernoulli",
        optimizer="adam",
        schedule="cosine",
    )
    config.data.batch_size = 128
    config.data.eval_batch_size = 1000

    config.model.channels = (32, 64)
    config.model.activation = "relu"
    config.model.latent_dim = 128  # 16 vectors of code_dim 8
    config.model.code_dim = 8
    config.model.codebook_size = 128
    config.model.commitment_cost = 0.25
    config.model.ema_decay = 0.99
    config.model.restart_threshold = 0.01

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
