r"""The KL autoencoder of latent diffusion (Rombach et al., 2022, the first stage's
"AutoencoderKL") on Fashion-MNIST: a residual conv encoder to a spatial Gaussian code
(f = 4: 28x28 -> 7x7x4), its mirror decoder, and latent diffusion's loss: L1
reconstruction + 1e-6 KL + (optionally) LPIPS + VQGAN's adaptively weighted PatchGAN
hinge loss, the discriminator switched on after a warm-up.

  python experiments/train.py --config=configs/fashion_mnist_kl_ae.py \
      --workdir=runs/fashion_mnist_kl_ae
  python experiments/evaluate.py --workdir=runs/fashion_mnist_kl_ae

Arguments (comma-separated, each optional): `adversarial=1|0` (0: the same autoencoder
and loss without the adversarial term, and no discriminator updates: the baseline),
`perceptual=<path>` (add LPIPS-VGG16 with weight 1 from that weights file; see
docs/perceptual.md), `steps=<n>` (default 400), `smoke` (10 steps, the discriminator
on from step 5); e.g. `:adversarial=0`.

Model: `spatial_vae` with residual stages of 16, 32 and 32 channels (one block each,
group norm, SiLU), latent_channels 4; Bernoulli-mean outputs (sigmoid), L1 summed over
pixels, kl_weight 1e-6, batch 64, Adam 1e-3 (cosine); discriminator: PatchGAN with 2
stride-2 layers of 64-128 channels, group norm, Adam 2e-4 (b1 0.5, b2 0.9), on from
40% of the steps, adversarial weight 0.5 times the adaptive weight. The checkpoint is
chosen by validation L1 (the first 2,000 examples of the 10% of the training split held
out, every 100 steps); the evaluators report
PSNR/SSIM (and LPIPS when `config.evals.reconstruction.lpips_weights` is set) on test.

Result (test split, 10,000 images; the checkpoint with the best validation L1; no
perceptual term: the LPIPS weights file is not on the machine this was measured on),
both runs started together at commit f14a504 on the shared 2-core AMD EPYC (load ~20:
other jobs ran alongside), each stopped by `--config.train.time_limit_minutes=24`:

  | run | steps (of 400) | best step | test PSNR | test SSIM | test MSE |
  |---|---|---|---|---|---|
  | `:adversarial=1` (this config) | 261 | 261 | 20.18 dB | 0.707 | 0.01105 |
  | `:adversarial=0` (baseline: no adversarial term) | 301 | 300 | 20.68 dB | 0.727 | 0.00996 |

The two runs are the same computation until the discriminator starts at step 160 (same
seed; validation L1 55.20 for both at step 100). At equal steps the adversarial term
costs reconstruction: validation L1 51.53 against 41.68 at step 200, 40.57 at 261
against 38.09 at 300 (the adaptive weight was 34 at step 200 and 5.6 at 261, so
lambda * 0.5 weights the hinge loss heavily this early; latent diffusion starts its
discriminator after 50,001 steps). The adversarial run is also ~15% slower per step
(the adaptive weight's two extra backward passes), so it reached fewer steps in the
same time. At a few hundred CPU steps this shows that the objective trains, not what a
converged KL autoencoder reaches; the GAN's benefit (sharper textures) is not what
PSNR/SSIM measure. Commands:

  python experiments/train.py --config=configs/fashion_mnist_kl_ae.py:adversarial=1 \
      --config.train.time_limit_minutes=24 --workdir=runs/fashion_mnist_kl_ae_adversarial-1
  python experiments/evaluate.py --workdir=runs/fashion_mnist_kl_ae_adversarial-1 \
      --evals=reconstruction

(and the same with `adversarial=0`); evaluation took 65-90 s per run.

Result (measured 2026-12-03, commit d9ea48f, 2-core AMD EPYC shared with one other
training run): this config's full 400 steps (0.47 epochs) in 429 s of training (9 min
10 s wall; 0.93 steps/s); the checkpoint of step 400, best on validation L1. Test MSE
0.01146, PSNR 20.0 dB, SSIM 0.700, against PCA with 196 components (the 7x7x4 code's
size) on the same test images: 0.00424, 24.8 dB, SSIM 0.869 (`python
experiments/evaluate.py --workdir=runs/fashion_mnist_kl_ae --evals=reconstruction,cost,pca`,
1 min 49 s). Not a result a researcher would accept from a KL autoencoder: half an
epoch is what 20 CPU minutes allow this model (a step is ~1 s: the adaptive weight's
extra backward passes and the discriminator), and PCA with as many components as the
code has values is far ahead; latent diffusion trains its autoencoder for hundreds of
thousands of steps on accelerators (`steps=<n>` sets a longer run).
"""

from aelab.config import base_config, make_smoke, parse_config_arg

DEFAULTS = {"adversarial": 1, "perceptual": "", "steps": 400}


def get_config(arg: str | None = None):
    words = [w for w in (arg or "").split(",") if w]
    smoke = "smoke" in words
    args = parse_config_arg(",".join(w for w in words if w != "smoke"), DEFAULTS)
    if args["adversarial"] not in (0, 1) or args["steps"] < 1:
        raise ValueError(
            f"Config argument {arg!r} is not valid: adversarial=1|0, perceptual=<path>, "
            "steps=<n >= 1>, smoke."
        )
    config = base_config(
        data="fashion_mnist",
        model="spatial_vae",
        objective="kl_autoencoder",
        likelihood="bernoulli",
        optimizer="adam",
        schedule="cosine",
    )
    config.data.batch_size = 64
    config.data.eval_batch_size = 1000
    config.data.validation_fraction = 0.1

    # Two halvings: f = 4, a 7x7 code. Narrow, for the shared 2-core CPU it was measured on.
    config.model.channels = (16, 32, 32)
    config.model.blocks_per_stage = 1
    config.model.norm = "group"
    config.model.activation = "silu"
    config.model.latent_channels = 4

    num_steps = args["steps"]
    config.objective.reconstruction = "l1"
    config.objective.kl_weight = 1e-6
    config.objective.gan_loss = "hinge"
    config.objective.discriminator_layers = 2
    config.objective.discriminator_channels = 64
    config.objective.discriminator_norm = "group"
    if args["adversarial"]:
        config.objective.adversarial_weight = 0.5
        config.objective.discriminator_start = int(0.4 * num_steps)
    else:
        # The baseline: no adversarial term (and no adaptive weight to compute); the
        # discriminator is built but never updated.
        config.objective.adversarial_weight = 0.0
        config.objective.adaptive_weight = False
        config.objective.discriminator_start = num_steps + 1
    if args["perceptual"]:
        config.objective.perceptual_weight = 1.0
        config.objective.perceptual_weights = args["perceptual"]

    config.optimizer.learning_rate = 1e-3
    config.optimizer.end_lr_factor = 0.05
    config.optimizer.discriminator.learning_rate = 2e-4
    config.optimizer.discriminator.b1 = 0.5
    config.optimizer.discriminator.b2 = 0.9

    config.train.num_steps = num_steps
    config.train.log_every = 20
    config.train.eval_every = 100
    config.train.checkpoint_every = 100
    config.train.eval_examples = 2000  # of the validation split, at each evaluation
    # Select on the pixel loss: the adversarial term's scale moves with lambda.
    config.train.best_metric = "eval/reconstruction_l1"
    config.evals = {"reconstruction": {}}
    if args["perceptual"]:
        config.evals.reconstruction.lpips_weights = args["perceptual"]
    if smoke:
        make_smoke(config, num_steps=10)
        config.objective.discriminator_start = 5 if args["adversarial"] else 11
        config.data.eval_batch_size = 128
        config.train.eval_examples = 128
    return config
