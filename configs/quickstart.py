r"""Quickstart: a small dense VAE on the embedded digits data set (8x8, 1,797 images).

Works offline on a fresh machine (scikit-learn ships the data):

  python experiments/train.py --config=configs/quickstart.py --workdir=runs/quickstart

Smoke version (20 steps): --config=configs/quickstart.py:smoke

Result (measured 2026-11-23, commit 1224441, 2-core CPU shared with other jobs): test
ELBO -23.66 nats (Bernoulli likelihood on grey levels in [0, 1]; eval/mse 0.0306) after
10,000 steps; 14.6 s wall time for the whole command, of which 5 s training.
Remeasured 2026-11-24 at commit 1476ea5 (after the stable-softplus Bernoulli
change): test ELBO -23.64 nats, 36 s for the whole command on the shared CPU.
"""

from aelab.config import base_config, check_variant, make_smoke


def get_config(arg: str | None = None):
    variant = check_variant(arg)
    config = base_config(
        data="digits",
        model="dense_vae",
        objective="elbo",
        likelihood="bernoulli",
        optimizer="adam",
        schedule="cosine",
    )
    config.data.batch_size = 64
    config.data.eval_batch_size = 360

    config.model.hidden_dims = (128, 64)
    config.model.latent_dim = 8
    config.model.activation = "relu"

    config.optimizer.learning_rate = 1e-3
    config.optimizer.end_lr_factor = 0.05

    config.train.num_steps = 10_000
    config.train.log_every = 500
    config.train.eval_every = 1_000
    config.train.checkpoint_every = 2_500
    config.train.steps_per_call = 10
    if variant == "smoke":
        make_smoke(config, num_steps=20)
    return config
