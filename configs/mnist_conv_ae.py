r"""A convolutional autoencoder on MNIST (two stride-2 convs, 32-d code, Bernoulli loss).

Needs MNIST's IDX .gz files under $AELAB_DATA_DIR/mnist:

  python experiments/train.py --config=configs/mnist_conv_ae.py --workdir=runs/mnist_conv_ae

Smoke version: --config=configs/mnist_conv_ae.py:smoke

Result (measured 2026-11-23, commit 9962a19, 2-core CPU shared with other jobs): after
the full 10,000 steps (21 epochs; 1,395 s of training at 7.2 steps/s under load) the test
Bernoulli reconstruction NLL is 56.98 nats and the test MSE per pixel 0.00399 (PSNR 24.9
dB), against 0.01685 for PCA with 32 components; a linear probe on the 32-d codes reaches
92.8% test accuracy (raw pixels 88.6%, PCA-32 89.8%). docs/results.md has the commands.
"""

from aelab.config import base_config, check_variant, make_smoke


def get_config(arg: str | None = None):
    variant = check_variant(arg)
    config = base_config(
        data="mnist",
        model="conv_ae",
        objective="reconstruction",
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
