r"""Convolutional, residual and ViT autoencoders and VAEs on 28x28 grey-scale images
(MNIST, Fashion-MNIST), one per variant.

Needs the data set's IDX .gz files under $AELAB_DATA_DIR/mnist or
$AELAB_DATA_DIR/fashion_mnist (the variant's name says which). Every variant trains at
batch 128 with Adam at 1e-3 and cosine decay to 5%, 10,000 steps (the two residual
models 3,000 steps at half their full widths), each sized to finish in about 20 minutes
on a 2-core CPU; 10% of the training images are the validation split that selects the
checkpoint. The argument names the variant (there is no default); append ",smoke" for
its smoke version, e.g. `:mnist_conv_ae,smoke` (20 steps for mnist_conv_ae and
fashion_mnist_conv_vae, 10 on 128 test examples for the others), or ",full" for the
accelerator budget: 30,000 steps (64 epochs), the residual models at full width (not
measured yet).

mnist_conv_ae: a convolutional autoencoder on MNIST (two stride-2 convs, 32-d code,
Bernoulli loss).

  python experiments/train.py --config=configs/images.py:mnist_conv_ae \
      --workdir=runs/images_mnist_conv_ae

Result (measured 2026-11-23, commit 9962a19, 2-core CPU shared with other jobs): after
the full 10,000 steps (21 epochs; 1,395 s of training at 7.2 steps/s under load) the test
Bernoulli reconstruction NLL is 56.98 nats and the test MSE per pixel 0.00399 (PSNR 24.9
dB), against 0.01685 for PCA with 32 components; a linear probe on the 32-d codes reaches
92.8% test accuracy (raw pixels 88.6%, PCA-32 89.8%). docs/results.md has the commands.

fashion_mnist_conv_vae: a convolutional VAE on Fashion-MNIST (grey levels as Bernoulli
probabilities), the same encoder and decoder.

  python experiments/train.py --config=configs/images.py:fashion_mnist_conv_vae \
      --workdir=runs/images_fashion_mnist_conv_vae

Result (measured 2026-12-03, commit 5c94f0e, 2-core AMD EPYC shared with one other
training run): the full 10,000 steps (23.7 epochs) in 1,138 s of training (1,163 s
wall); the checkpoint chosen by validation loss, step 10,000: test MSE per value
0.01142, PSNR 20.3 dB, SSIM 0.687, against PCA with 32 components (the code size; fitted
on 20,000 training images) on the same test images: 0.01517, 18.7 dB, SSIM 0.585
(`python experiments/evaluate.py --workdir=runs/images_fashion_mnist_conv_vae
--evals=cost,generation,reconstruction,pca`, 47 s).

mnist_vqvae: a VQ-VAE on MNIST: conv encoder/decoder, 16 codes of 8 dims from a
128-entry EMA codebook.

  python experiments/train.py --config=configs/images.py:mnist_vqvae \
      --workdir=runs/images_mnist_vqvae

Result (measured 2026-12-03, commit 6de24b4, 2-core AMD EPYC shared with one other
training run for most of it): the full 10,000 steps (23.7 epochs) in 1,093 s of training
(1,117 s wall); the checkpoint chosen by validation loss, step 10,000: test MSE per
value 0.00464, PSNR 23.9 dB, SSIM 0.947, every one of the 128 codes used (perplexity
117.7; 16 indices of 7 bits, 112 bits per image). PCA with 128 real-valued components
(the code's size before quantisation) reaches 0.00423, 24.1 dB, SSIM 0.907 on the same
test images (`python experiments/evaluate.py --workdir=runs/images_mnist_vqvae
--evals=cost,generation,reconstruction,codebook,pca`, 18 s).

mnist_wae_mmd: a Wasserstein autoencoder (WAE-MMD, IMQ kernel) on MNIST with a conv
encoder/decoder.

  python experiments/train.py --config=configs/images.py:mnist_wae_mmd \
      --workdir=runs/images_mnist_wae_mmd

Result (measured 2026-12-03, working tree of cc9400d plus the contractive-penalty change
of 213a63e, which this config does not use; 2-core AMD EPYC shared with two other
training runs): the 10,000-step default (23.7 epochs) in 2,046 s of training (4.9
steps/s), the checkpoint ranked best on validation. On the 10,000 test images
(`python experiments/evaluate.py --workdir=runs/images_mnist_wae_mmd
--evals=cost,generation,reconstruction,pca`, 53 s): reconstruction MSE 0.01609 (PSNR
19.0 dB, SSIM 0.794) from the 8-d code, against PCA with 8 components fitted on the
training images 0.03744 (14.5 dB, SSIM 0.405) on the same images: 0.43x PCA's error.

mnist_logistic_vae: a conv VAE on 8-bit MNIST with a discretised logistic likelihood
(reports bits/dim), KL warm-up and free bits.

  python experiments/train.py --config=configs/images.py:mnist_logistic_vae \
      --workdir=runs/images_mnist_logistic_vae

Result (measured 2026-12-03, same tree and machine as mnist_wae_mmd): the 10,000-step
default (23.7 epochs) in 1,443 s of training (6.9 steps/s), the checkpoint ranked best
on validation. On the 10,000 test images (`python experiments/evaluate.py
--workdir=runs/images_mnist_logistic_vae --evals=cost,generation,reconstruction,pca,objective`,
40 s): negative ELBO 738.8 nats per image, 1.359 bits/dim (KL 73.3, reconstruction NLL
665.5; one posterior sample, so an upper bound on the true NLL); reconstruction MSE of
the likelihood's mean 0.00466 (PSNR 24.3 dB, SSIM 0.952) from the 32-d code, against
PCA-32 fitted on the training images 0.01685 (18.1 dB, SSIM 0.654) on the same images.
No likelihood baseline is run beside it yet (a PixelCNN or the published ~1.0 bits/dim
of deeper VAEs would be the comparison); the bits/dim row stands without one.

mnist_resnet_ae: a residual autoencoder on MNIST with batch norm and dropout.

  python experiments/train.py --config=configs/images.py:mnist_resnet_ae \
      --workdir=runs/images_mnist_resnet_ae

Result (measured 2026-12-03, commit b614cbc, 2-core AMD EPYC shared with one other
training run): the 3,000-step default (7.1 epochs) in 1,686 s of training, of which the
first 520 steps ran in a run of the same model begun with a 5,000-step schedule (stopped
by SIGTERM and resumed under this config: its learning rate over those steps was at most
4.5% higher); the checkpoint chosen by validation loss, step 3,000: test MSE per value
0.00362, PSNR 25.3 dB, SSIM 0.963, against PCA with 32 components (the code size; fitted
on 20,000 training images) on the same test images: 0.01685, 18.1 dB, SSIM 0.654
(`python experiments/evaluate.py --workdir=runs/images_mnist_resnet_ae
--evals=cost,generation,reconstruction,pca`, 65 s).

fashion_mnist_resnet_vae: a residual VAE on Fashion-MNIST: pre-activation GroupNorm
blocks, 28 -> 14 -> 7.

  python experiments/train.py --config=configs/images.py:fashion_mnist_resnet_vae \
      --workdir=runs/images_fashion_mnist_resnet_vae

Result (measured 2026-12-03, commit 6e73728, 2-core AMD EPYC shared with one other
training run): the 3,000-step default (7.1 epochs) in 1,571 s of training (1,608 s
wall); the checkpoint chosen by validation loss, step 3,000: test MSE per value 0.01284,
PSNR 19.6 dB, SSIM 0.663, against PCA with 32 components (the code size; fitted on
20,000 training images) on the same test images: 0.01517, 18.7 dB, SSIM 0.585 (`python
experiments/evaluate.py --workdir=runs/images_fashion_mnist_resnet_vae
--evals=cost,generation,reconstruction,pca`, 94 s). The conv VAE of
fashion_mnist_conv_vae reaches 0.01142 in its 10,000 steps.

mnist_vit_ae: a ViT autoencoder on MNIST: 4x4 patches, 2+2 transformer blocks, 4 latent
tokens.

  python experiments/train.py --config=configs/images.py:mnist_vit_ae \
      --workdir=runs/images_mnist_vit_ae

Result (measured 2026-12-03, commit f7c68bc, 2-core AMD EPYC shared with one other
training run: 4.0 steps/s, 8.1 on the quiet machine): the full 10,000 steps (23.7
epochs) in 2,536 s of training (2,574 s wall); the checkpoint chosen by validation loss,
step 10,000: test MSE per value 0.00650, PSNR 22.8 dB, SSIM 0.930, against PCA with 32
components (the code size; fitted on 20,000 training images) on the same test images:
0.01685, 18.1 dB, SSIM 0.654 (`python experiments/evaluate.py
--workdir=runs/images_mnist_vit_ae --evals=cost,generation,reconstruction,pca`, 65 s).
The conv AE (mnist_conv_ae) reaches 0.00399 and the residual AE (mnist_resnet_ae)
0.00362 with the same code size.

fashion_mnist_vit_vae: a ViT VAE on Fashion-MNIST (mean-pooled code).

  python experiments/train.py --config=configs/images.py:fashion_mnist_vit_vae \
      --workdir=runs/images_fashion_mnist_vit_vae

Result (measured 2026-11-24, evaluated at commit 4e5448d, 2-core CPU shared with other
jobs): a shortened CPU budget, 210 of 10,000 steps (0.45 epochs; 102 s of training, 2.06
steps/s under load; the run was stopped by SIGTERM, which checkpoints): test MSE per
value 0.06032, PSNR 12.6 dB, SSIM 0.193 (`python experiments/evaluate.py
--workdir=runs/models/fashion_mnist_vit_vae --step=latest --evals=reconstruction,cost`).
This shows that the config trains, not what its full 10,000 steps reach.
Rerun 2026-12-03 (commit 343953b's configs, 2-core AMD EPYC shared with one other
training run throughout): the full 10,000 steps (23.7 epochs) in 3,585 s of training
(2.8 steps/s under that load; 61 min wall); the checkpoint of step 10,000, best on
validation: test MSE per value 0.01868, PSNR 18.1 dB, SSIM 0.587, against PCA with 32
components (the code size) on the same test images 0.01517, 18.7 dB, SSIM 0.585
(`python experiments/evaluate.py --workdir=runs/images_fashion_mnist_vit_vae
--evals=cost,generation,reconstruction,pca`, 61 s). Behind PCA, so not yet a result a
researcher would accept: the conv VAE of this file reaches 0.01142 on the same data; a
VAE's reconstruction pays for its KL, and the ViT family is the slowest to train on a
CPU (the `,full` budget's 30,000 steps are for an accelerator).
"""

from aelab.config import base_config, make_smoke

# Two stride-2 conv stages, 28 -> 14 -> 7.
CONV = {"model.channels": (32, 64), "model.activation": "relu"}
# The same stride-2 transposed convolutions as "transpose" (same parameters, same
# function), computed as a conv to 4x channels + depth-to-space: ~5x faster on CPU
# (docs/performance.md).
SUBPIXEL = {"model.upsample": "subpixel"}
# 4x4 patches, 2 encoder and 2 decoder blocks, warm-up over the first 200 steps.
VIT = {
    "model.patch_size": 4,
    "model.embed_dim": 64,
    "model.num_heads": 4,
    "model.num_layers": 2,
    "model.decoder_layers": 2,
    "model.num_latent_tokens": 4,
    "model.latent_dim": 32,
    "optimizer.warmup_steps": 200,
}

# Each variant: the components it picks (base_config's arguments beyond the shared Adam
# and cosine schedule; the likelihood is Bernoulli unless named), then the fields it sets
# on top of the set-up every variant shares (in get_config).
SETUPS = {
    "mnist_conv_ae": (
        {"data": "mnist", "model": "conv_ae", "objective": "reconstruction"},
        {**CONV, **SUBPIXEL, "model.latent_dim": 32, "train.steps_per_call": 10},
    ),
    "fashion_mnist_conv_vae": (
        {"data": "fashion_mnist", "model": "conv_vae", "objective": "elbo"},
        {**CONV, **SUBPIXEL, "model.latent_dim": 32, "train.steps_per_call": 10},
    ),
    "mnist_vqvae": (
        {"data": "mnist", "model": "conv_vqvae", "objective": "reconstruction"},
        {
            **CONV,
            **SUBPIXEL,
            "model.latent_dim": 128,  # 16 vectors of code_dim 8
            "model.code_dim": 8,
            "model.codebook_size": 128,
            "model.commitment_cost": 0.25,
            "model.ema_decay": 0.99,
            "model.restart_threshold": 0.01,
        },
    ),
    "mnist_wae_mmd": (
        {"data": "mnist", "model": "conv_ae", "objective": "wae_mmd", "likelihood": "mse"},
        {
            **CONV,
            **SUBPIXEL,
            "model.latent_dim": 8,
            "objective.mmd_weight": 10.0,
            "objective.mmd_kernel": "imq",
        },
    ),
    "mnist_logistic_vae": (
        {
            "data": "mnist",
            "model": "conv_vae",
            "objective": "elbo",
            "likelihood": "discretized_logistic",
        },
        {
            **CONV,
            **SUBPIXEL,
            "model.latent_dim": 32,
            "objective.kl_warmup_steps": 1000,
            "objective.free_bits": 0.05,  # nats per latent dimension (batch mean)
        },
    ),
    "mnist_resnet_ae": (
        {"data": "mnist", "model": "resnet_ae", "objective": "reconstruction"},
        {
            "model.channels": (16, 32),  # (32, 64) in :full
            "model.blocks_per_stage": 1,
            "model.norm": "batch",
            "model.dropout_rate": 0.1,
            "model.activation": "relu",
            "model.latent_dim": 32,
            "train.num_steps": 3_000,
        },
    ),
    "fashion_mnist_resnet_vae": (
        {"data": "fashion_mnist", "model": "resnet_vae", "objective": "elbo"},
        {
            "model.channels": (16, 32, 32),  # (32, 64, 64) in :full
            "model.blocks_per_stage": 1,
            "model.norm": "group",
            "model.num_groups": 8,
            "model.activation": "silu",
            "model.latent_dim": 32,
            "train.num_steps": 3_000,
        },
    ),
    "mnist_vit_ae": (
        {"data": "mnist", "model": "vit_ae", "objective": "reconstruction"},
        {**VIT, "model.mlp_ratio": 2.0, "model.pooling": "tokens", "train.steps_per_call": 10},
    ),
    "fashion_mnist_vit_vae": (
        {"data": "fashion_mnist", "model": "vit_vae", "objective": "elbo"},
        {**VIT, "model.pooling": "mean", "train.steps_per_call": 10},
    ),
}
VARIANTS = tuple(SETUPS)
# ",full": the accelerator budget, 30,000 steps (64 epochs), and the residual models at
# the widths their CPU defaults halve.
FULL = {
    "mnist_resnet_ae": {"model.channels": (32, 64)},
    "fashion_mnist_resnet_vae": {"model.channels": (32, 64, 64)},
}
FULL_STEPS = 30_000
# Smoke versions: 20 steps at the full eval batch for these two, 10 steps on 128 test
# examples for the others.
TWENTY_STEP_SMOKE = ("mnist_conv_ae", "fashion_mnist_conv_vae")


def get_config(arg: str | None = None):
    variant, _, mode = (arg or "").partition(",")
    if variant not in VARIANTS or mode not in ("", "smoke", "full"):
        raise ValueError(
            f"Config argument {arg!r} is not valid: name a variant, one of "
            f"{', '.join(VARIANTS)} (e.g. --config=configs/images.py:mnist_conv_ae), and "
            "append ',smoke' for its smoke version or ',full' for its accelerator budget."
        )
    smoke = mode == "smoke"
    components, fields = SETUPS[variant]
    components = {"likelihood": "bernoulli"} | components  # unless the variant names one
    config = base_config(optimizer="adam", schedule="cosine", **components)
    config.data.batch_size = 128
    config.data.eval_batch_size = 1000
    config.optimizer.learning_rate = 1e-3
    config.optimizer.end_lr_factor = 0.05
    config.train.num_steps = 10_000
    config.train.log_every = 200
    config.train.eval_every = 2_000
    config.train.checkpoint_every = 2_000
    config.train.steps_per_call = 1
    config.update_from_flattened_dict(fields)
    if mode == "full":
        config.update_from_flattened_dict(FULL.get(variant, {}))
        config.train.num_steps = FULL_STEPS
        config.train.eval_every = config.train.checkpoint_every = 5_000
    if smoke:
        if variant in TWENTY_STEP_SMOKE:
            make_smoke(config, num_steps=20)
        else:
            make_smoke(config, num_steps=10)
            config.data.eval_batch_size = 128
            config.train.eval_examples = 128
    return config
