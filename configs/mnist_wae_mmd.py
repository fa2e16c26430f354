r"""A Wasserstein autoencoder (WAE-MMD, IMQ kernel) on MNIST with a conv encoder/decoder.

Needs MNIST's IDX .gz files under $AELAB_DATA_DIR/mnist:

  python experiments/train.py --config=configs/mnist_wae_mmd.py \
      --workdir=runs/mnist_wae_mmd

Smoke version: --config=configs/mnist_wae_mmd.py:smoke

Result (measured): not measured yet.
"""

from aelab.config import base_config, check_variant, make_smoke


def get_config(arg: str | None = None):
    variant = check_variant(arg)
    config = base_config(
        data="mnist",
        model="conv_ae",
        objective="wae_mmd",
        likelihood="mse",
        optimizer="adam",
        schedule="cosine",
    )
    config.data.batch_size = 128
    config.data.eval_batch_size = 1000

    config.model.channels = (32, 64)
    config.model.activation = "relu"
    config.model.latent_dim = 8

    config.objective.mmd_weight = 10.0
    config.objective.mmd_kernel = "imq"

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
