r"""A ViT autoencoder on MNIST: 4x4 patches, 2+2 transformer blocks, 4 latent tokens.

Needs MNIST's IDX .gz files under $AELAB_DATA_DIR/mnist:

  python experiments/train.py --config=configs/mnist_vit_ae.py \
      --workdir=runs/mnist_vit_ae

Smoke version: --config=configs/mnist_vit_ae.py:smoke

Result (measured 2026-11-24, evaluated at commit 4e5448d, 2-core CPU shared with other
jobs): a shortened CPU budget, 380 of 10,000 steps (0.81 epochs; 99 s of training, 3.83
steps/s under load; the run was stopped by SIGTERM, which checkpoints): test MSE per
value 0.0358, PSNR 14.9 dB, SSIM 0.517 (`python experiments/evaluate.py
--workdir=runs/models/mnist_vit_ae --step=latest --evals=reconstruction,cost`). This
shows that the config trains, not what its full 10,000 steps reach.
"""

from aelab.config import base_config, check_variant, make_smoke


def get_config(arg: str | None = None):
    variant = check_variant(arg)
    config = base_config(
        data="mnist",
        model="vit_ae",
        objective="reconstruction",
        likelihood="bernoulli",
        optimizer="adam",
        schedule="cosine",
    )
    config.data.batch_size = 128
    config.data.eval_batch_size = 1000

    config.model.patch_size = 4
    config.model.embed_dim = 64
    config.model.num_heads = 4
    config.model.mlp_ratio = 2.0
    config.model.num_layers = 2
    config.model.decoder_layers = 2
    config.model.pooling = "tokens"
    config.model.num_latent_tokens = 4
    config.model.latent_dim = 32

    config.optimizer.learning_rate = 1e-3
    config.optimizer.end_lr_factor = 0.05
    config.optimizer.warmup_steps = 200

    config.train.num_steps = 10_000
    config.train.log_every = 200
    config.train.eval_every = 2_000
    config.train.checkpoint_every = 2_000
    config.train.steps_per_call = 10
    if variant == "smoke":
        make_smoke(config, num_steps=10)
        config.data.eval_batch_size = 128
        config.train.eval_examples = 128
    return config
