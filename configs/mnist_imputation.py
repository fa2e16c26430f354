r"""Imputation: autoencoders trained to fill in missing values (masking noise, Vincent et
al. 2010, with a missing fraction drawn per example from 10-90%, so one model fills in
at any fraction), evaluated at 25, 50 and 75% of the values missing against mean
filling, k-nearest-neighbour imputation and iterative imputation fitted on the same
training data (`imputation` evaluator).

Variants (`:<variant>`); without one, `mnist`. Append `,smoke` for a 10-step run, or
`,full` for an accelerator's budget (4x the steps), e.g. `:mnist,full`.

mnist: a conv autoencoder (32-64 channels, 64-d code) on MNIST, missing pixels.

  python experiments/train.py --config=configs/mnist_imputation.py:mnist \
      --workdir=runs/mnist_imputation
  python experiments/evaluate.py --workdir=runs/mnist_imputation

Result (2026-12-01, commit 302ee47, 2-core AMD EPYC shared with other jobs: 12,000
steps in 17 min of training, 2.7 min of evaluation): mean squared error over the
missing pixels of the first 1,000 test digits (one reconstruction pass) at 25 / 50 / 75%
missing: 0.0055 / 0.0079 / 0.0155, against the best of the baselines fitted on 5,000
training digits: 0.0211 (iterative) / 0.0230 (kNN) / 0.0250 (kNN); mean filling 0.069.
The model beats all three at every fraction (3.8x, 2.9x, 1.6x lower error).

ecg5000: a dense autoencoder 140-256-128-32-128-256-140 on all ECG5000 training beats,
missing time steps.

  python experiments/train.py --config=configs/mnist_imputation.py:ecg5000 \
      --workdir=runs/ecg5000_imputation
  python experiments/evaluate.py --workdir=runs/ecg5000_imputation

Result (2026-12-01, commit 302ee47, 2-core AMD EPYC: 20,000 steps in 22 s of training
and about 40 s of wall time, 5 s of evaluation): mean squared error over the missing
time steps of the first 1,000 test beats (z-normalised) at 25 / 50 / 75% missing:
0.0639 / 0.0679 / 0.0806, against k-nearest-neighbour imputation 0.0694 / 0.0742 /
0.0876 (the best baseline at each fraction; iterative 0.103 / 0.208 / 0.323, mean
filling 0.48): 8% lower error at every fraction.

`,full`: the same model trained 4 times longer (48,000 steps for mnist), for an
accelerator.

  python experiments/train.py --config=configs/mnist_imputation.py:mnist,full \
      --workdir=runs/mnist_imputation_full

Result: not measured (no accelerator was available).
"""

import ml_collections

from aelab.config import base_config, make_smoke

VARIANTS = ("mnist", "ecg5000")
MODES = ("smoke", "full")
# Training steps of each variant's CPU budget; `full` trains FULL_FACTOR times as long.
STEPS = {"mnist": 12_000, "ecg5000": 20_000}
FULL_FACTOR = 4
# Missing values read as this value (0: black pixels, or the mean of a z-normalised ECG
# beat); the evaluator starts the model's filling from it too.
FILL = 0.0


def _arguments(arg: str | None) -> tuple[str, set[str]]:
    words = [w for w in (arg or "").split(",") if w]
    modes = {w for w in words if w in MODES}
    named = [w for w in words if w not in MODES]
    if len(named) > 1 or (named and named[0] not in VARIANTS) or len(modes) > 1:
        raise ValueError(
            f"Config argument {arg!r} is not valid: name at most one variant of "
            f"{', '.join(VARIANTS)}, optionally with one of smoke or full (e.g. "
            ":ecg5000,smoke or :mnist,full)."
        )
    return (named[0] if named else "mnist"), modes


def get_config(arg: str | None = None):
    variant, modes = _arguments(arg)
    smoke = "smoke" in modes
    ecg = variant == "ecg5000"
    config = base_config(
        data="ecg5000" if ecg else "mnist",
        model="dense_ae" if ecg else "conv_ae",
        objective="reconstruction",
        likelihood="mse" if ecg else "bernoulli",
        optimizer="adam",
        schedule="cosine",
        corruption="masking",
    )
    config.data.corruption = ml_collections.ConfigDict(
        {"name": "masking", "rate": 0.1, "max_rate": 0.9, "fill": FILL}
    )
    config.data.batch_size = 64 if ecg else 128
    config.data.eval_batch_size = 512 if ecg else 1000
    if ecg:
        config.data.flatten = True
        config.model.hidden_dims = (256, 128)
        config.model.activation = "gelu"
        config.model.latent_dim = 32
    else:
        config.model.channels = (32, 64)
        config.model.upsample = "subpixel"
        config.model.latent_dim = 64

    config.optimizer.learning_rate = 1e-3
    config.optimizer.end_lr_factor = 0.02

    steps = STEPS[variant] * (FULL_FACTOR if "full" in modes else 1)
    config.train.num_steps = steps
    config.train.log_every = 500
    config.train.eval_every = steps // 10
    config.train.checkpoint_every = steps // 5
    config.train.steps_per_call = 25

    # One pass: the model was trained to fill masked values in a single reconstruction.
    config.evals.imputation = {"initial": FILL, "iterations": 1}
    config.evals.reconstruction = {"every": 0}
    if smoke:
        make_smoke(config, num_steps=10)
        config.data.eval_batch_size = 64
        config.train.eval_examples = 64
        config.evals.imputation = {
            "initial": FILL,
            "iterations": 1,
            "baselines": ("mean", "knn"),
            "fit_examples": 200,
            "max_examples": 64,
        }
    return config
