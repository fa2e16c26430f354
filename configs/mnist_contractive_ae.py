r"""A contractive autoencoder on MNIST: Frobenius norm of the encoder Jacobian as penalty.

Needs MNIST's IDX .gz files under $AELAB_DATA_DIR/mnist:

  python experiments/train.py --config=configs/mnist_contractive_ae.py \
      --workdir=runs/mnist_contractive_ae

Smoke version: --config=configs/mnist_contractive_ae.py:smoke

Result (measured): not measured yet.
"""

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

    config.model.hidden_dims = (512,)
    config.model.activation = "sigmoid"
    config.model.latent_dim = 32

    config.objective.contractive_weight = 0.1

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
