r"""Adversarial training of a conv VQ autoencoder on Fashion-MNIST, as in VQGAN (Esser et
al., 2021): the reconstruction loss plus a PatchGAN discriminator's (Isola et al., 2017)
hinge loss, weighted adaptively by the ratio of the two losses' gradients at the
decoder's last layer, with the discriminator switched on after a warm-up. No perceptual
loss: VQGAN's LPIPS term needs its weights file (`config.objective.perceptual_weight` and
`perceptual_weights`, docs/perceptual.md), which is not on the machine this was written on.

  python experiments/train.py --config=configs/fashion_mnist_vqgan.py \
      --workdir=runs/fashion_mnist_vqgan
  python experiments/evaluate.py --workdir=runs/fashion_mnist_vqgan --step=latest

Arguments (comma-separated, each optional): `adversarial=1|0` (0: the same autoencoder
and objective with the adversarial term off and the discriminator never updated: the
baseline; the two runs are the same computation until the discriminator starts),
`weight=<w>` (the adversarial weight that scales the adaptive lambda: 0.5 by default,
chosen on validation; VQGAN's 0.8 costs 1.1 dB of PSNR here), `start=<step>` (the
discriminator's start step: 1,000 by default, 2,000 with `full`),
`gan_loss=hinge|non_saturating`,
`r1=<gamma>` (R1 penalty, 0 by default), `lecam=<weight>` (LeCam regulariser, 0 by
default), `full` (the accelerator protocol below), `smoke` (10 steps, the
discriminator on from step 5); e.g. `:adversarial=0`, `:weight=0.8`.

Model: the VQ-VAE of configs/images.py:mnist_vqvae (conv encoder/decoder of 32-64
channels, 16 codes of 8 dims from a 128-vector EMA codebook), Bernoulli pixels, batch
128, Adam 1e-3 (cosine); discriminator: PatchGAN with 2 stride-2 layers (7x7 patches of
the 28x28 images), group norm, Adam 2e-4 (b1 0.5, b2 0.9). The default is sized for a
2-core CPU: 3,000 steps, the discriminator of 16-32-64 channels switched on at step
1,000. VQGAN's own width (64-128-256 channels) costs ~27 M multiply-adds per 28x28
image, ten times this generator: on a quiet 2-core EPYC the two-optimizer step then
costs 8.2x the same generator's one-optimizer step (1.52 against 12.44 steps/s), and
1.94x with 16 channels (6.44 against 12.46; issue 15's goal is <= 2.2x):
benchmarks/results/adversarial_step_vqgan.json and adversarial_step_vqgan_full.json,
`python benchmarks/adversarial_step.py --config=configs/fashion_mnist_vqgan.py
--steps=10 --repetitions=3 --output=...` (and `:full`, --steps=4). `:full` (for
accelerators): 10,000 steps, 64-128-256 channels, on at step 2,000.

The evaluators: reconstruction (PSNR/SSIM), the codebook's health, and the aelab
classifier Frechet distance of the reconstructions (`feature_distance`, needs the
classifier run runs/fashion_mnist_classifier: `python experiments/train.py
--config=configs/mnist_classifier.py:fashion_mnist --workdir=runs/fashion_mnist_classifier`;
not comparable to FID).

Result (measured 2026-12-06 on a 2-core AMD EPYC, shared with one other training run
except for weight 0.5's; each evaluated at its last step, `--step=latest`: a
fixed-length protocol, as VQGAN's; ranked by validation reconstruction NLL the
checkpoints would pick step 1,000, where the discriminator starts and the runs are still
the same), this config and its `weight=` variants against `:adversarial=0`:

  | run | training | validation rFD / PSNR | test rFD | test PSNR | SSIM | MSE |
  |---|---|---|---|---|---|---|
  | `:adversarial=0` (baseline) | 1,121 s | 12.04 / 20.95 dB | 12.02 | 20.89 dB | 0.724 | 0.00990 |
  | `:weight=0.15` | 970 s | 11.16 / 20.95 dB | 11.12 | 20.89 dB | 0.723 | 0.00992 |
  | `:weight=0.3` | 1,303 s | 9.94 / 20.90 dB | 9.89 | 20.84 dB | 0.721 | 0.01002 |
  | this config (weight 0.5) | 599 s | 8.69 / 20.80 dB | 8.63 | 20.74 dB | 0.717 | 0.01020 |
  | `:weight=0.8` (VQGAN's; 2026-12-04) | 921 s | not measured | 8.12 | 19.75 dB | 0.672 | 0.01240 |

The weight is chosen on the validation split (`evaluate.py --split=validation
--evals=feature_distance,reconstruction`, the 10% of the training images held out): the
lowest validation distance among the weights whose validation PSNR is within 0.5 dB of
the baseline's. 0.8's run (from 2026-12-04, not on the machine this was chosen on) has
no validation numbers; its test PSNR is 1.14 dB below the baseline's. At weight 0.5 the
adversarial term lowers the test feature distance of the reconstructions by 28% (12.02
-> 8.63; the real-vs-real floor is 0.38; the classifier's accuracy on reconstructions
86.4% against 85.7%, 91.3% on the real images) at 0.15 dB of PSNR: issue 15's goal (a
lower distance at a PSNR within 0.5 dB) is met. Every run uses all 128 codes (16 codes
of 7 bits, 112 bits per image; perplexity 113.2-113.5). The baseline is bit-exact
across the two days' runs (12.02, 20.893 dB). docs/results.md, "Adversarial training",
has the rows with their commands, and docs/figures/vqgan_reconstructions.png the same
held-out images from each run. The weight 0.5 run was trained as `:weight=0.5` before
that became the default (the same config):

  python experiments/train.py --config=configs/mnist_classifier.py:fashion_mnist \
      --workdir=runs/fashion_mnist_classifier
  python experiments/train.py --config=configs/fashion_mnist_vqgan.py \
      --workdir=runs/fashion_mnist_vqgan
  python experiments/evaluate.py --workdir=runs/fashion_mnist_vqgan --step=latest
  python experiments/train.py --config=configs/fashion_mnist_vqgan.py:adversarial=0 \
      --workdir=runs/fashion_mnist_vqgan_adversarial-0
  python experiments/evaluate.py --workdir=runs/fashion_mnist_vqgan_adversarial-0 \
      --step=latest

The objective and this config are tested (tests/objectives/test_vqgan.py; first steps
recorded).
"""

from aelab.config import base_config, make_smoke, parse_config_arg

DEFAULTS = {
    "adversarial": 1,
    "gan_loss": "hinge",
    "r1": 0.0,
    "lecam": 0.0,
    "weight": 0.5,
    "start": 0,
}
CLASSIFIER = "runs/fashion_mnist_classifier"


def get_config(arg: str | None = None):
    words = [w for w in (arg or "").split(",") if w]
    smoke, full = "smoke" in words, "full" in words
    args = parse_config_arg(",".join(w for w in words if w not in ("smoke", "full")), DEFAULTS)
    num_steps = 10_000 if full else 3_000
    start = args["start"] or (2_000 if full else 1_000)
    if (
        args["gan_loss"] not in ("hinge", "non_saturating")
        or args["adversarial"] not in (0, 1)
        or args["weight"] <= 0
        or not 0 < start < num_steps
    ):
        raise ValueError(
            f"Config argument {arg!r} is not valid: adversarial=1|0, "
            "gan_loss=hinge|non_saturating, r1=<gamma>, lecam=<weight>, weight=<w > 0>, "
            f"start=<step in 1..{num_steps - 1}>, full, smoke."
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
    config.objective.discriminator_layers = 2
    config.objective.discriminator_channels = 64 if full else 16
    config.objective.discriminator_norm = "group"
    config.objective.r1_weight = float(args["r1"])
    config.objective.lecam_weight = float(args["lecam"])
    if args["adversarial"]:
        config.objective.adversarial_weight = args["weight"]
        config.objective.discriminator_start = start
    else:
        # The baseline: no adversarial term (and no adaptive weight to compute); the
        # discriminator is built but never updated.
        config.objective.adversarial_weight = 0.0
        config.objective.adaptive_weight = False
        config.objective.discriminator_start = num_steps + 1

    config.optimizer.learning_rate = 1e-3
    config.optimizer.end_lr_factor = 0.05
    config.optimizer.discriminator.learning_rate = 2e-4
    config.optimizer.discriminator.b1 = 0.5
    config.optimizer.discriminator.b2 = 0.9

    config.train.num_steps = num_steps
    config.train.log_every = 200
    config.train.eval_every = 500
    config.train.checkpoint_every = 500
    # Select on the reconstruction: the adversarial term's scale moves with lambda.
    config.train.best_metric = "eval/reconstruction_nll"
    config.evals = {
        "reconstruction": {},
        "codebook": {},
        "feature_distance": {"classifier": CLASSIFIER},
        "cost": {},
    }
    if smoke:
        make_smoke(config, num_steps=10)
        config.objective.discriminator_start = 5 if args["adversarial"] else 11
        config.data.eval_batch_size = 128
        config.train.eval_examples = 128
    return config
