r"""A beta-VAE (beta = 4) on MNIST with a linear KL warm-up over the first 2,000 steps.

Needs MNIST's IDX .gz files under $AELAB_DATA_DIR/mnist:

  python experiments/train.py --config=configs/mnist_beta_vae.py \
      --workdir=runs/mnist_beta_vae

Smoke version: --config=configs/mnist_beta_vae.py:smoke

Result (measured): not measured yet.
"""

from aelab.config import base_config, check_variant, make_smoke


def get_config(arg: str | None = None):
    variant = check_variant(arg)
    config = base_config(
        data="mnist",
        model="dense_vae",
        objective="elbo",
        likelihood="bernoulli",
        optimizer="adam",
        schedule="cosine",
    )
    config.data.batch_size = 128
    config.data.eval_batch_size = 1000

    config.model.hidden_dims = (512, 256)
    config.model.activation = "relu"
    config.model.latent_dim = 10

    config.objective.beta = 4.0
    config.objective.kl_warmup_steps = 2000

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
