r"""Dense (MLP) autoencoders and VAEs on MNIST, one per variant: VAE, beta-VAE, IWAE,
sparse, contractive and VQ autoencoders, and the IWAE paper's two-stochastic-layer model.

Needs MNIST's four IDX .gz files under $AELAB_DATA_DIR/mnist (or config.data.data_dir);
binarized_2layer_iwae needs the fixed binarised MNIST .amat.gz files under
$AELAB_DATA_DIR/binarized_mnist. Every variant has a Bernoulli likelihood, batch 128,
Adam at 1e-3 with cosine decay to 5%. The argument names the variant (there is no
default); append ",smoke" for its smoke version, e.g. `:vae,smoke` (20 steps for vae, 10
on 128 test examples for the others). The results below were measured when each variant
was its own file (configs/mnist_<variant>.py; configs/mnist_dense_vqvae.py,
configs/binarized_mnist_2layer_iwae.py), with the same settings.

vae: a dense VAE on dynamically binarised MNIST (784-512-256-32).

  python experiments/train.py --config=configs/mnist_dense.py:vae \
      --workdir=runs/mnist_dense_vae

Result (measured 2026-11-23, commit 1224441, 2-core CPU heavily shared with other jobs):
test ELBO -93.05 nats (one posterior sample per test image, the 10,000 test images
binarised once with a fixed seed; KL 25.8, reconstruction NLL 67.2) after 30,000 steps
(64 epochs) at batch 128; 979 s of training (about 34 steps/s under that load; the
same step runs at about 250 steps/s on an idle 2-core CPU).
Rerun 2026-12-03 (commit a7cf417, 2-core AMD EPYC shared with one other training run):
the 30,000 steps in 324 s of training (343 s wall); the checkpoint chosen by validation
loss, step 30,000: test MSE per value against the binarised test images 0.02336, PSNR
16.6 dB, against PCA with 32 components (the code size) on the same images 0.03361, 14.9
dB (`python experiments/evaluate.py --workdir=runs/mnist_dense_vae
--evals=cost,generation,reconstruction,pca`, 19 s).

beta_vae: a beta-VAE (beta = 4, 10-d code) with a linear KL warm-up over the first 2,000
steps.

  python experiments/train.py --config=configs/mnist_dense.py:beta_vae \
      --workdir=runs/mnist_dense_beta_vae

Result (measured 2026-12-03, commit d9ea48f, 2-core AMD EPYC shared with one other
training run): the full 20,000 steps (47 epochs) in 406 s of training (7 min 23 s
wall); the checkpoint chosen by validation loss, step 20,000: test MSE per pixel
0.01511, PSNR 18.9 dB, SSIM 0.795, against PCA with 10 components (the code size) on
the same test images 0.03408, 14.9 dB (`python experiments/evaluate.py
--workdir=runs/mnist_dense_beta_vae --evals=cost,generation,reconstruction,pca`, 56 s).

iwae: IWAE with k=5 on dynamically binarised MNIST: the IWAE paper's first architecture
(784-200-200-50, tanh, one stochastic layer), 20,000 steps (51 epochs at batch 128; the
paper's protocol, 3,280 epochs, is `configs/iwae_table1/mlp_1layer.py:objective=iwae,k=5,
budget=full`, for accelerators).

  python experiments/train.py --config=configs/mnist_dense.py:iwae \
      --workdir=runs/mnist_dense_iwae
  python experiments/evaluate.py --workdir=runs/mnist_dense_iwae \
      --evals=cost,generation,reconstruction,pca,likelihood

Result (measured 2026-12-04, trained from the working tree of commit 1265651 with this
variant's 20,000 steps, evaluated with the flattened likelihood terms of commit d09cc70
(on the first 200 test images they give the same estimate, 94.86 ± 1.69, in 14 s
against 102 s before); 2-core AMD EPYC shared with one other training run): 20,000
steps (51 epochs) in 1,281 s of training (15.6 steps/s; 21 min 52 s for the command);
the checkpoint chosen by
validation loss, step 20,000 (validation IWAE bound -96.99). Test NLL, k = 5,000
importance samples on the 10,000 test images: 92.64 ± 0.25 nats (ELBO -99.64, KL 22.5,
22 active units), against the paper's 85.54 for IWAE k=5 after 3,280 epochs (Burda et
al. 2016, Table 1): 51 epochs are a CPU budget, far from convergence. Reconstruction
(posterior mean) MSE 0.02531 against PCA with 50 components (the code size) 0.02735 on
the same binarised test images. Evaluation 9 min 15 s with three processes on the two
cores (the k = 5,000 estimate 517 s of it).

sparse_ae: a sparse autoencoder: 128-d code, KL sparsity penalty to a 5% mean activation.

  python experiments/train.py --config=configs/mnist_dense.py:sparse_ae \
      --workdir=runs/mnist_dense_sparse_ae

Result (measured 2026-12-03, commit 343953b's configs, 2-core AMD EPYC shared with one
other training run): the full 20,000 steps (47 epochs) in 413 s of training (7 min 24 s
wall); the checkpoint chosen by validation loss, step 20,000: test MSE per pixel
0.00134, PSNR 29.4 dB, SSIM 0.985, against PCA with 128 components (the code size) on
the same test images 0.00423, 24.1 dB (`python experiments/evaluate.py
--workdir=runs/mnist_dense_sparse_ae --evals=cost,reconstruction,pca`, 37 s).

contractive_ae: a contractive autoencoder: Frobenius norm of the encoder Jacobian as
penalty (784-512-32, sigmoid), estimated in training from 4 random projections per
example (Hutchinson's unbiased estimate, `objective.contractive_projections`; the
exact norm costs one second-order product per code dimension, 32, and ran at 2.2 steps/s
against 11.4 for the estimate in a 500-step trial on a shared 2-core EPYC, with the
same validation loss at step 500: 123.30 vs 123.32); evaluation computes it exactly.

  python experiments/train.py --config=configs/mnist_dense.py:contractive_ae \
      --workdir=runs/mnist_dense_contractive_ae

Result (measured 2026-12-04, trained at commit 1265651, 2-core AMD EPYC shared with one
other training run for most of it): the full 20,000 steps (47 epochs) in 729 s of
training (12 min 43 s for the command; 27 steps/s); the checkpoint chosen by validation
loss, step 20,000 (validation loss 61.96, exact penalty 8.23 per image). Test MSE per
pixel 0.00512, PSNR 23.9 dB, SSIM 0.943, against PCA with 32 components (the code
size) on the same test images 0.01685, 18.1 dB, SSIM 0.654 (`python
experiments/evaluate.py --workdir=runs/mnist_dense_contractive_ae
--evals=cost,reconstruction,pca`, 24 s).

vqvae: a dense VQ-VAE with a codebook learned by gradient (no EMA).

  python experiments/train.py --config=configs/mnist_dense.py:vqvae \
      --workdir=runs/mnist_dense_vqvae

Result (measured 2026-12-03, commit 2708edf, 2-core AMD EPYC shared with one other
training run): the full 20,000 steps (35.6 epochs) in 175 s of training (189 s wall);
the checkpoint chosen by validation loss, step 15,000: test MSE per value 0.01092, PSNR
20.3 dB, SSIM 0.868. PCA with 64 real-valued components (the code's size before
quantisation; the code itself is 8 indices of 6 bits, 48 bits per image) reaches
0.00907, 20.8 dB, SSIM 0.783 on the same test images (`python experiments/evaluate.py
--workdir=runs/mnist_dense_vqvae --evals=cost,generation,reconstruction,pca`, 33 s).

binarized_2layer_iwae: IWAE with k=5 on fixed binarised MNIST with the IWAE paper's
two-stochastic-layer model (784-200-200-100-100-100-50, tanh), 20,000 steps (51 epochs of
the 50,000 training images at batch 128; the paper's protocol is
`configs/iwae_table1/mlp_2layer.py`).

  python experiments/train.py --config=configs/mnist_dense.py:binarized_2layer_iwae \
      --workdir=runs/mnist_dense_binarized_2layer_iwae
  python experiments/evaluate.py --workdir=runs/mnist_dense_binarized_2layer_iwae \
      --evals=cost,reconstruction,pca,likelihood

Result (measured 2026-12-04, trained from the working tree of commit 1265651 with these
20,000 steps, evaluated with commit d09cc70's likelihood code; 2-core AMD EPYC shared
with one other training run): 20,000 steps (51 epochs) in 1,489 s of training (13.4
steps/s; 25 min 29 s for the command); the checkpoint chosen by the validation images'
loss, step 20,000 (validation IWAE bound -97.50). Test NLL, k = 5,000 importance samples
on the 10,000 fixed binarised test images: 93.21 ± 0.26 nats (ELBO -100.25, KL 19.3,
100 active units as the evaluator counts them), against the paper's 83.89 for this
model as IWAE k=5 after 3,280 epochs (Burda et al. 2016, Table 1): 51 epochs are a CPU
budget, and at it the one-layer `iwae` above (92.64 on dynamically binarised images) is
as good.
Reconstruction MSE 0.02773 against PCA with 100 components (the first code's size)
0.01905 on the same test images: PCA with as many real-valued components reconstructs
better than this stochastic code. 12 min 41 s for the evaluation (740 s of it the k =
5,000 estimate, with three processes on the two cores).
"""

from aelab.config import base_config, make_smoke

# Each variant: the components it picks (base_config's arguments beyond the shared
# Bernoulli likelihood, Adam and cosine schedule), then the fields it sets on top of the
# set-up every variant shares (in get_config).
SETUPS = {
    "vae": (
        {"data": "mnist", "model": "dense_vae", "objective": "elbo"},
        {
            "data.binarize": "dynamic",
            "model.hidden_dims": (512, 256),
            "model.latent_dim": 32,
            "model.activation": "relu",
            "train.num_steps": 30_000,
        },
    ),
    "beta_vae": (
        {"data": "mnist", "model": "dense_vae", "objective": "elbo"},
        {
            "model.hidden_dims": (512, 256),
            "model.activation": "relu",
            "model.latent_dim": 10,
            "objective.beta": 4.0,
            "objective.kl_warmup_steps": 2000,
            "train.num_steps": 20_000,
        },
    ),
    "iwae": (
        {"data": "mnist", "model": "dense_vae", "objective": "iwae"},
        {
            "data.binarize": "dynamic",
            "model.hidden_dims": (200, 200),
            "model.activation": "tanh",
            "model.latent_dim": 50,
            "objective.num_samples": 5,
            "optimizer.eps": 1e-4,  # as in the paper
            # ~20 minutes on a 2-core CPU (k = 5 decodes five samples a step: ~19
            # steps/s with another run beside it); the paper's 3,280 epochs are
            # configs/iwae_table1/mlp_1layer.py:objective=iwae,k=5,budget=full.
            "train.num_steps": 20_000,
            # MNIST has no validation split of its own: 10,000 of the 60,000 training
            # images (a fixed random sixth) select the checkpoint.
            "data.validation_fraction": 1 / 6,
        },
    ),
    "sparse_ae": (
        {"data": "mnist", "model": "dense_ae", "objective": "reconstruction"},
        {
            "model.hidden_dims": (512,),
            "model.activation": "relu",
            "model.latent_dim": 128,
            "objective.sparsity_weight": 1.0,
            "objective.sparsity_target": 0.05,
            "train.num_steps": 20_000,
        },
    ),
    "contractive_ae": (
        {"data": "mnist", "model": "dense_ae", "objective": "reconstruction"},
        {
            "model.hidden_dims": (512,),
            "model.activation": "sigmoid",
            "model.latent_dim": 32,
            "objective.contractive_weight": 0.1,
            # The exact penalty's gradient is 32 second-order products a step (3 steps/s
            # on a shared 2-core EPYC); 4 random projections estimate it without bias
            # at 5x the speed (evaluation stays exact).
            "objective.contractive_projections": 4,
            "train.num_steps": 20_000,
        },
    ),
    "vqvae": (
        {"data": "mnist", "model": "dense_vqvae", "objective": "reconstruction"},
        {
            "model.hidden_dims": (512, 256),
            "model.activation": "relu",
            "model.latent_dim": 64,  # 8 vectors of code_dim 8
            "model.code_dim": 8,
            "model.codebook_size": 64,
            "model.commitment_cost": 0.25,
            "model.ema_decay": 0.0,
            "train.num_steps": 20_000,
        },
    ),
    "binarized_2layer_iwae": (
        {"data": "binarized_mnist", "model": "dense_2layer_vae", "objective": "iwae"},
        {
            "model.hidden_dims": (200, 200),
            "model.latent_dim": 100,
            "model.top_hidden_dims": (100, 100),
            "model.top_latent_dim": 50,
            "model.activation": "tanh",
            "objective.num_samples": 5,
            "optimizer.eps": 1e-4,  # as in the paper
            # ~20 minutes on a 2-core CPU (two stochastic layers, five samples a step).
            "train.num_steps": 20_000,
            # The data set's own 10,000 validation images select the checkpoint.
            "data.validation_split": "validation",
            "data.validation_fraction": 0.0,
        },
    ),
}
VARIANTS = tuple(SETUPS)


def get_config(arg: str | None = None):
    variant, _, smoke = (arg or "").partition(",")
    if variant not in VARIANTS or smoke not in ("", "smoke"):
        raise ValueError(
            f"Config argument {arg!r} is not valid: name a variant, one of "
            f"{', '.join(VARIANTS)} (e.g. --config=configs/mnist_dense.py:vae, or "
            ":vae,smoke for its smoke version)."
        )
    components, fields = SETUPS[variant]
    config = base_config(likelihood="bernoulli", optimizer="adam", schedule="cosine", **components)
    config.data.batch_size = 128
    config.data.eval_batch_size = 1000
    config.optimizer.learning_rate = 1e-3
    config.optimizer.end_lr_factor = 0.05
    config.train.log_every = 500
    config.train.eval_every = 5_000
    config.train.checkpoint_every = 5_000
    config.train.steps_per_call = 50
    config.update_from_flattened_dict(fields)
    if smoke:
        if variant == "vae":  # 20 steps at the full eval batch
            make_smoke(config, num_steps=20)
        else:
            make_smoke(config, num_steps=10)
            config.data.eval_batch_size = 128
            config.train.eval_examples = 128
    return config
