r"""A denoising autoencoder on MNIST: 25% of the input pixels masked to 0, clean targets.

Needs MNIST's IDX .gz files under $AELAB_DATA_DIR/mnist:

  python experiments/train.py --config=configs/mnist_denoising_ae.py \
      --workdir=runs/mnist_denoising_ae

Smoke version: --config=configs/mnist_denoising_ae.py:smoke

Result (measured 2026-11-24, evaluated at commit 4e5448d, 2-core CPU shared with other
jobs): a shortened CPU budget, 3,050 of 20,000 steps (6.51 epochs; 64 s of training,
47.49 steps/s under load; the run was stopped by SIGTERM, which checkpoints): test MSE
per value 0.02386, PSNR 16.6 dB, SSIM 0.743 (`python experiments/evaluate.py
--workdir=runs/models/mnist_denoising_ae --step=latest --evals=reconstruction,cost`).
This shows that the config trains, not what its full 20,000 steps reach.
"""

import ml_collections

from aelab.config import base_config, check_variant, make_smoke


def get_config(arg: str | None = None):
    variant = check_variant(arg)
    config = base_config(
        data="mnist",
        model="dense_ae",
        objective="reconstruction",
        likelihood="bernoulli",
        optimizer="adam",
        schedule="cosine",
    )
    config.data.batch_size = 128
    config.data.eval_batch_size = 1000

    config.data.corruption = ml_collections.ConfigDict({"name": "masking", "rate": 0.25})

    config.model.hidden_dims = (512, 256)
    config.model.activation = "relu"
    config.model.latent_dim = 32

    config.optimizer.learning_rate = 1e-3
    config.optimizer.end_lr_factor = 0.05

    config.train.num_steps = 20_000
    config.train.log_every = 500
    config.train.eval_every = 5_000
    config.train.checkpoint_every = 5_000
    config.train.steps_per_call = 50
    if variant == "smoke":
        make_smoke(config, num_steps=10)
        config.data.eval_batch_size = 128
        config.train.eval_examples = 128
    return config
