r"""A residual autoencoder on MNIST with batch norm and dropout.

Needs MNIST's IDX .gz files under $AELAB_DATA_DIR/mnist:

  python experiments/train.py --config=configs/mnist_resnet_ae.py \
      --workdir=runs/mnist_resnet_ae

Smoke version: --config=configs/mnist_resnet_ae.py:smoke

Result (measured 2026-11-24, evaluated at commit 4e5448d, 2-core CPU shared with other
jobs): a shortened CPU budget, 53 of 10,000 steps (0.11 epochs; 79 s of training, 0.67
steps/s under load; the run was stopped by SIGTERM, which checkpoints): test MSE per
value 0.0541, PSNR 12.8 dB, SSIM 0.282 (`python experiments/evaluate.py
--workdir=runs/models/mnist_resnet_ae --step=latest --evals=reconstruction,cost`). This
shows that the config trains, not what its full 10,000 steps reach.
"""

from aelab.config import base_config, check_variant, make_smoke


def get_config(arg: str | None = None):
    variant = check_variant(arg)
    config = base_config(
        data="mnist",
        model="resnet_ae",
        objective="reconstruction",
        likelihood="bernoulli",
        optimizer="adam",
        schedule="cosine",
    )
    config.data.batch_size = 128
    config.data.eval_batch_size = 1000

    config.model.channels = (32, 64)
    config.model.blocks_per_stage = 1
    config.model.norm = "batch"
    config.model.dropout_rate = 0.1
    config.model.activation = "relu"
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
