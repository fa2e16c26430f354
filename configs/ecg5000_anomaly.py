r"""ECG5000 anomaly detection, one-class: trained on the normal beats of the 500 UCR
training rows (less the 30% validation part: normal and anomalous rows, on which the
checkpoint, the hyperparameters and the variant are chosen by anomaly AUROC), every one
of the 4,500 test beats scored; the classic detectors (PCA, isolation forest, one-class
SVM) are fitted on the same normal training beats and scored on the same test beats by
the `anomaly` evaluator.

  python experiments/train.py --config=configs/ecg5000_anomaly.py \
      --workdir=runs/ecg5000_anomaly
  python experiments/evaluate.py --workdir=runs/ecg5000_anomaly

Variants (`:<variant>`, each also `:<variant>,smoke`, and `code=<n>` for the code size,
default 4); without one, `ensemble`, the variant with the best validation AUROC at its
chosen checkpoint (ensemble 0.9986, dense_ae 0.9980, dense_vae 0.9976, lstm_ae 0.9723:
all but the last within the noise of 150 validation beats).

Measured 2026-12-01 (commit 9fac450, 2-core AMD EPYC) on the same 4,500 test beats, in
each run: PCA with its components chosen on validation 0.983 AUROC / 0.950 AP (8
components), PCA's upper bound (components chosen on test in hindsight) 0.992 / 0.985
(2), one-class SVM 0.986 / 0.971, isolation forest 0.947. The goal (0.997 / 0.99) is
not met: single models and settings land at test AUROC 0.977-0.992, the ensemble at
0.993. Tried, all chosen by validation AUROC: the variants, codes 2-16, and 40 TPE
trials of the VAE (configs/sweeps/ecg5000_anomaly.py:dense_vae: hidden sizes, dropout,
learning rate, weight decay, steps, likelihood std; 51 CPU minutes), whose trial values
0.996-0.999 differ by less than the validation part's noise. The published 0.997 (VELC,
Zhang et al. 2019) uses another split of the 5,000 beats.

ensemble: a deep ensemble of five dense_ae members (`config.model.ensemble_members`;
each from its own initialisation, trained on the same batches by its own loss), scored
by the mean of the members' reconstruction errors (`member_error`: the error of their
mean reconstruction plus their disagreement); one checkpoint for the ensemble, by
validation AUROC. The default: `--config=configs/ecg5000_anomaly.py` runs the same.

  python experiments/train.py --config=configs/ecg5000_anomaly.py:ensemble \
      --workdir=runs/ecg5000_anomaly_ensemble

Result (2026-12-03, 2-core AMD EPYC; 5,000 steps in 61 s of wall time, 16 s of
evaluation): the checkpoint at step 750 scores test AUROC 0.9931 / AP 0.9831: above
every classic detector's AUROC, PCA's upper bound included (0.9922), and PCA's AP with
validation-chosen components (0.950); 0.0016 short of the upper bound's hindsight AP
(0.9847). The error of the members' mean reconstruction alone scores 0.9916.

dense_ae: a dense autoencoder 140-64-32-<code>-32-64-140 (GELU), MSE loss, scored by
its reconstruction error.

  python experiments/train.py --config=configs/ecg5000_anomaly.py:dense_ae \
      --workdir=runs/ecg5000_anomaly_dense_ae

Result (5,000 steps in 77 s of wall time, 8 s of evaluation): the checkpoint at step
2,250 scores test AUROC 0.9917 / AP 0.9843: above the validation-chosen PCA, the
one-class SVM and isolation forest, 0.0005 / 0.0004 short of PCA's upper bound.

dense_vae: a dense VAE 140-128-64-<code>-64-128-140 (GELU, Gaussian likelihood with std
0.1, KL warm-up over 1,000 steps), scored by its negative ELBO; its size, learning rate
and weight decay are the sweep's choice (its best trial, 36, rounded).

  python experiments/train.py --config=configs/ecg5000_anomaly.py:dense_vae \
      --workdir=runs/ecg5000_anomaly_dense_vae

Result (56 s of wall time, 9 s of evaluation): the checkpoint at step 250 scores test
AUROC 0.9892 / AP 0.9766 (its ELBO's NLL 0.9878, latent distance 0.9758).

lstm_ae: an LSTM sequence-to-sequence autoencoder (hidden size 64).

  python experiments/train.py --config=configs/ecg5000_anomaly.py:lstm_ae \
      --workdir=runs/ecg5000_anomaly_lstm_ae

Result (214 s of training, 24 s of evaluation): the checkpoint at step 3,250 scores
test AUROC 0.9773 / AP 0.9522.

full: dense_ae trained 4 times longer (20,000 steps; the cosine schedule stretched).

  python experiments/train.py --config=configs/ecg5000_anomaly.py:full \
      --workdir=runs/ecg5000_anomaly_full

Result (2026-12-03, commit dedb4c1, 2-core AMD EPYC: 123 s of wall time on the
CPU, 13 s of evaluation): the checkpoint at step 2,250 scores test AUROC 0.9921 / AP
0.9852, as the 5,000-step dense_ae (0.9917 / 0.9843): the validation AUROC peaks early,
so a longer schedule does not help; the ensemble does.
"""

from aelab.config import base_config, make_smoke, parse_config_arg

VARIANTS = ("dense_ae", "dense_vae", "lstm_ae", "ensemble", "full")


def _arguments(arg: str | None) -> dict:
    words = [w for w in (arg or "").split(",") if w]
    smoke = "smoke" in words
    words = [w for w in words if w != "smoke"]
    named = [w for w in words if "=" not in w]
    if len(named) > 1 or (named and named[0] not in VARIANTS):
        raise ValueError(
            f"Config argument {arg!r} is not valid: name at most one variant of "
            f"{', '.join(VARIANTS)}, optionally code=<n> and smoke (e.g. :dense_ae,code=8)."
        )
    values = parse_config_arg(",".join(w for w in words if "=" in w), {"code": 4})
    return {"variant": named[0] if named else "ensemble", "code": values["code"], "smoke": smoke}


def get_config(arg: str | None = None):
    args = _arguments(arg)
    variant = args["variant"]
    model = {"full": "dense_ae", "ensemble": "dense_ae"}.get(variant, variant)
    vae = model.endswith("_vae")
    config = base_config(
        data="ecg5000",
        model=model,
        objective="elbo" if vae else "reconstruction",
        likelihood="gaussian" if vae else "mse",
        optimizer="adam",
        schedule="cosine",
    )
    # One-class: train (and select the checkpoint) on normal beats only (label 0).
    config.data.train_labels = (0,)
    config.data.batch_size = 32
    config.data.eval_batch_size = 512
    config.data.flatten = model.startswith("dense")
    # 30% of the 500 training rows (about 87 normal and 63 anomalous beats) are the
    # validation split the checkpoint and the hyperparameters are chosen on: with 10%,
    # every model (and PCA) separates its 50 rows perfectly, which chooses nothing.
    config.data.validation_fraction = 0.3

    config.model.latent_dim = args["code"]
    if model.startswith("dense"):
        config.model.hidden_dims = (64, 32)
        config.model.activation = "gelu"
    else:
        config.model.hidden_size = 64
    config.optimizer.learning_rate = 1e-3
    config.optimizer.end_lr_factor = 0.02
    config.optimizer.name = "adamw"
    config.optimizer.weight_decay = 1e-4
    if vae:
        config.objective.likelihood_scale = 0.1
        config.objective.kl_warmup_steps = 1000
        # The choice of configs/sweeps/ecg5000_anomaly.py:dense_vae (40 TPE trials by
        # validation AUROC; its best trial, 36, rounded): a wider net, a faster schedule.
        config.model.hidden_dims = (128, 64)
        config.optimizer.learning_rate = 2e-3
        config.optimizer.weight_decay = 2e-4

    config.train.num_steps = 20_000 if variant == "full" else 5_000
    config.train.log_every = 250
    config.train.eval_every = 250
    # A checkpoint at every evaluation, so that the one the validation AUROC ranks best
    # exists (the model is 54k parameters; the last and the best are kept).
    config.train.checkpoint_every = 250
    config.train.keep_checkpoints = 1
    config.train.steps_per_call = 25

    score = "negative_elbo" if vae else "reconstruction_error"
    if variant == "ensemble":
        # Five dense_ae members from their own initialisations, on the same batches; the
        # checkpoint is chosen for the ensemble as a whole.
        config.model.ensemble_members = 5
        score = "member_error"
    # The checkpoint is the one whose anomaly AUROC on the validation split (normal and
    # anomalous training rows; the loop's evaluators report on it) is best.
    config.evals.anomaly = {"score": score, "every": 250}
    config.evals.reconstruction = {"every": 0}
    config.train.best_metric = "evals/anomaly/auroc"
    config.train.best_mode = "max"
    if args["smoke"]:
        make_smoke(config, num_steps=10)
        config.evals.anomaly = {
            "score": score,
            "every": config.train.eval_every,
            "nll_samples": 4,
            "baselines": ("pca",),
            "max_examples": 256,
        }
    return config
