r"""A convolutional VAE on Fashion-MNIST (grey levels as Bernoulli probabilities).

Needs Fashion-MNIST's IDX .gz files under $AELAB_DATA_DIR/fashion_mnist:

  python experiments/train.py --config=configs/fashion_mnist_conv_vae.py \
      --workdir=runs/fashion_mnist_conv_vae

Smoke version: --config=configs/fashion_mnist_conv_vae.py:smoke

Result (measured 2026-11-24, evaluated at commit 4e5448d, 2-core CPU shared with other
jobs): a shortened CPU budget, 610 of 10,000 steps (1.30 epochs; 66 s of training, 9.28
steps/s under load; the run was stopped by SIGTERM, which checkpoints): test MSE per
value 0.01686, PSNR 18.3 dB, SSIM 0.593 (`python experiments/evaluate.py
--workdir=runs/models/fashion_mnist_conv_vae --step=latest --evals=reconstruction,cost`).
This shows that the config trains, not what its full 10,000 steps reach.
"""

from aelab.config import base_config, check_variant, make_smoke


def get_config(arg: str | None = None):
    variant = check_variant(arg)
    config = base_config(
        data="fashion_mnist",
        model="conv_vae",
        objective="elbo",
        likelihood="bernoulli",
        optimizer="adam",
        schedule="cosine",
    )
    config.data.batch_size = 128
    config.data.eval_batch_size = 1000

    config.model.channels = (32, 64)
    config.model.latent_dim = 32
    config.model.activation = "relu"
    # The same stride-2 transposed convolutions as "transpose" (same parameters, same
    # function), computed as a conv to 4x channels + depth-to-space: ~5x faster on CPU
    # (docs/performance.md).
    config.model.upsample = "subpixel"

    config.optimizer.learning_rate = 1e-3
    config.optimizer.end_lr_factor = 0.05

    config.train.num_steps = 10_000
    config.train.log_every = 200
    config.train.eval_every = 2_000
    config.train.checkpoint_every = 2_000
    config.train.steps_per_call = 10
    if variant == "smoke":
        make_smoke(config, num_steps=20)
    return config
