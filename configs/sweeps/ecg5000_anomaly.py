r"""Sweep: the ECG5000 anomaly detector's size, regularisation and schedule, chosen by
anomaly AUROC on the validation split (30% of the 500 training rows, normal and
anomalous beats); the test beats are never seen.

  python experiments/sweep.py --sweep=configs/sweeps/ecg5000_anomaly.py:dense_vae \
      --sweep_dir=runs/sweep_ecg5000_dense_vae --workers=2

The argument is a variant of `configs/ecg5000_anomaly.py` (dense_ae, dense_vae,
lstm_ae); `<variant>,smoke` runs 2 trials of 20 steps. Each trial keeps the checkpoint
with the best validation AUROC (the config ranks checkpoints by it), and the trial is
worth that AUROC (`value="best"`). The report's best command trains the chosen model;
`experiments/evaluate.py` then scores the test beats.

Result: see `configs/ecg5000_anomaly.py`, whose defaults are this sweep's choice.
"""

import os

from aelab.sweeps import Choice, Float, Sweep

ECG5000_ANOMALY = os.path.join(os.path.dirname(__file__), os.pardir, "ecg5000_anomaly.py")
VARIANTS = ("dense_ae", "dense_vae", "lstm_ae")


def get_sweep(arg: str | None = None) -> Sweep:
    words = [w for w in (arg or "dense_vae").split(",") if w]
    smoke = "smoke" in words
    variant = ([w for w in words if w != "smoke"] or ["dense_vae"])[0]
    if variant not in VARIANTS:
        raise ValueError(
            f"Sweep argument {arg!r} is not valid: name one of {', '.join(VARIANTS)}, "
            "optionally with ,smoke."
        )
    space = {
        "optimizer.learning_rate": Float(3e-4, 3e-3, log=True),
        "optimizer.weight_decay": Float(1e-5, 1e-2, log=True),
        "model.latent_dim": Choice([2, 4, 8, 16]),
        "train.num_steps": Choice([2000, 5000, 10000]),
    }
    if variant == "lstm_ae":
        space["model.hidden_size"] = Choice([32, 64, 128])
    else:
        space["model.hidden_dims"] = Choice([(64, 32), (128, 64), (256, 128)])
        space["model.dropout_rate"] = Choice([0.0, 0.1, 0.2])
    if variant == "dense_vae":
        space["objective.likelihood_scale"] = Choice([0.05, 0.1, 0.2])
    overrides = {}
    if smoke:
        space["train.num_steps"] = Choice([20])
        overrides = {"mesh.num_devices": 1}
    return Sweep(
        config_file=ECG5000_ANOMALY,
        config_arg=f"{variant},smoke" if smoke else variant,
        overrides=overrides,
        space=space,
        metric="evals/anomaly/auroc",
        direction="maximize",
        value="best",
        num_trials=2 if smoke else 40,
        sampler="tpe",
        sampler_options={"n_startup_trials": 2 if smoke else 12},
        seed=0,
    )
