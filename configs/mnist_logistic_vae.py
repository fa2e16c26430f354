r"""A conv VAE on 8-bit MNIST with a discretised logistic likelihood (reports bits/dim),
KL warm-up and free bits.

Needs MNIST's IDX .gz files under $AELAB_DATA_DIR/mnist:

  python experiments/train.py --config=configs/mnist_logistic_vae.py \
      --workdir=runs/mnist_logistic_vae

Smoke version: --config=configs/mnist_logistic_vae.py:smoke

Result (measured): not measured yet.
"""

from aelab.config import base_config, check_variant, make_smoke


def get_config(arg: str | None = None):
    variant = check_variant(arg)
    config = base_config(
        data="mnist",
        model="conv_vae",
        objective="elbo",
        likelihood="discretized_logistic",
        optimizer="adam",
        schedule="cosine",
    )
    config.data.batch_size = 128
    config.data.eval_batch_size = 1000

    config.model.channels = (32, 64)
    config.model.activation = "relu"
    config.model.upsample = "transpose"
    config.model.latent_dim = 32

    config.objective.kl_warmup_steps = 1000
    config.objective.free_bits = 0.05  # nats per latent dimension (batch mean)

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
