r"""IWAE with k=5 on dynamically binarised MNIST: the IWAE paper's first architecture
(784-200-200-50, tanh, one stochastic layer).

Needs MNIST's IDX .gz files under $AELAB_DATA_DIR/mnist:

  python experiments/train.py --config=configs/mnist_iwae.py \
      --workdir=runs/mnist_iwae

Smoke version: --config=configs/mnist_iwae.py:smoke

Result (measured): not measured yet.
"""

from aelab.config import base_config, check_variant, make_smoke


def get_config(arg: str | None = None):
    variant = check_variant(arg)
    config = base_config(
        data="mnist",
        model="dense_vae",
        objective="iwae",
        likelihood="bernoulli",
        optimizer="adam",
        schedule="cosine",
    )
    config.data.batch_size = 128
    config.data.eval_batch_size = 1000
    config.data.binarize = "dynamic"

    config.model.hidden_dims = (200, 200)
    config.model.activation = "tanh"
    config.model.latent_dim = 50

    config.objective.num_samples = 5

    config.optimizer.learning_rate = 1e-3
    config.optimizer.end_lr_factor = 0.05
    config.optimizer.eps = 1e-4  # as in the paper

    config.train.num_steps = 50_000
    config.train.log_every = 500
    config.train.eval_every = 5_000
    config.train.checkpoint_every = 5_000
    config.train.steps_per_call = 50
    if variant == "smoke":
        make_smoke(config, num_steps=10)
        config.data.eval_batch_size = 128
        config.train.eval_examples = 128
    return config
