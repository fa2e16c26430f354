r"""A dense VAE on dynamically binarised MNIST (784-512-256-32, Bernoulli likelihood).

Needs MNIST's four IDX .gz files under $AELAB_DATA_DIR/mnist (or config.data.data_dir):

  python experiments/train.py --config=configs/mnist_vae.py --workdir=runs/mnist_vae

Smoke version: --config=configs/mnist_vae.py:smoke

Result (measured 2026-11-23, commit 1224441, 2-core CPU heavily shared with other jobs):
test ELBO -93.05 nats (one posterior sample per test image, the 10,000 test images
binarised once with a fixed seed; KL 25.8, reconstruction NLL 67.2) after 30,000 steps
(64 epochs) at batch 128; 979 s of training (about 34 steps/s under that load; the
same step runs at about 250 steps/s on an idle 2-core CPU).
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
    config.data.binarize = "dynamic"
    config.data.batch_size = 128
    config.data.eval_batch_size = 1000

    config.model.hidden_dims = (512, 256)
    config.model.latent_dim = 32
    config.model.activation = "relu"

    config.optimizer.learning_rate = 1e-3
    config.optimizer.end_lr_factor = 0.05

    config.train.num_steps = 30_000
    config.train.log_every = 500
    config.train.eval_every = 5_000
    config.train.checkpoint_every = 5_000
    config.train.steps_per_call = 50
    if variant == "smoke":
        make_smoke(config, num_steps=20)
    return config
