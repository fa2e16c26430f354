r"""Adversarial training of a conv VQ autoencoder on Fashion-MNIST, as in VQGAN (Esser et
al., 2021): the reconstruction loss plus a PatchGAN discriminator's (Isola et al., 2017)
hinge loss, weighted adaptively by the ratio of the two losses' gradients at the
decoder's last layer, with the discriminator switched on after a warm-up. No perceptual
loss: VQGAN's LPIPS term needs its weights file (`config.objective.perceptual_weight` and
`perceptual_weights`, docs/perceptual.md), which is not on the machine this was written on.

  python experiments/train.py --config=configs/fashion_mnist_vqgan.py \
      --workdir=runs/fashion_mnist_vqgan
  python experiments/evaluate.py --workdir=runs/fashion_mnist_vqgan

Arguments (comma-separated, each optional): `gan_loss=hinge|non_saturating`,
`r1=<gamma>` (R1 penalty, 0 by default), `lecam=<weight>` (LeCam regulariser, 0 by
default), `smoke` (10 steps, the discriminator on from step 5); e.g. `:lecam=0.001`.

Model: the VQ-VAE of configs/images.py:mnist_vqvae (conv encoder/decoder of 32-64
channels, 16 codes of 8 dims from a 128-vector EMA codebook), Bernoulli pixels, batch
128, Adam 1e-3 (cosine); discriminator: PatchGAN with 2 stride-2 layers of 64-128
channels (7x7 patches of the 28x28 images), group norm, Adam 2e-4 (b1 0.5, b2 0.9),
switched on at step 2,000 of 10,000.

Result: not measured yet. The objective and this config are tested
(tests/objectives/test_vqgan.py; first steps recorded).
"""

from aelab.config import base_config, make_smoke, parse_config_arg

DEFAULTS = {"gan_loss": "hinge", "r1": 0.0, "lecam": 0.0}


def get_config(arg: str | None = None):
    words = [w for w in (arg or "").split(",") if w]
    smoke = "smoke" in words
    args = parse_config_arg(",".join(w for w in words if w != "smoke"), DEFAULTS)
    if args["gan_loss"] not in ("hinge", "non_saturating"):
        raise ValueError(
            f"Config argument {arg!r} is not valid: gan_loss=hinge|non_saturating, "
            "r1=<gamma>, lecam=<weight>, smoke."
        )
    config = base_config(
        data="fashion_mnist",
        model="conv_vqvae",
        objective="vqgan",
        likelihood="bernoulli",
        optimizer="adam",
        schedule="cosine",
    )
    config.data.batch_size = 128
    config.data.eval_batch_size = 1000

    config.model.channels = (32, 64)
    config.model.activation = "relu"
    config.model.upsample = "subpixel"
    config.model.latent_dim = 128  # 16 vectors of code_dim 8
    config.model.code_dim = 8
    config.model.codebook_size = 128
    config.model.commitment_cost = 0.25
    config.model.ema_decay = 0.99
    config.model.restart_threshold = 0.01

    config.objective.gan_loss = args["gan_loss"]
    config.objective.adversarial_weight = 0.8
    config.objective.discriminator_start = 2_000
    config.objective.discriminator_layers = 2
    config.objective.discriminator_channels = 64
    config.objective.discriminator_norm = "group"
    config.objective.r1_weight = float(args["r1"])
    config.objective.lecam_weight = float(args["lecam"])

    config.optimizer.learning_rate = 1e-3
    config.optimizer.end_lr_factor = 0.05
    config.optimizer.discriminator.learning_rate = 2e-4
    config.optimizer.discriminator.b1 = 0.5
    config.optimizer.discriminator.b2 = 0.9

    config.train.num_steps = 10_000
    config.train.log_every = 200
    config.train.eval_every = 2_000
    config.train.checkpoint_every = 2_000
    # Select on the reconstruction: the adversarial term's scale moves with lambda.
    config.train.best_metric = "eval/reconstruction_nll"
    if smoke:
        make_smoke(config, num_steps=10)
        config.objective.discriminator_start = 5
        config.data.eval_batch_size = 128
        config.train.eval_examples = 128
    return config
