r"""One-class anomaly detection on a UCR/UEA time-series data set: trained on one class
(the normal one) of the archive's training split, less its 10% validation part; every
test series scored, the other classes being the anomalies; PCA, isolation forest and
one-class SVM fitted and scored on the same series (`anomaly` evaluator).

Needs the archive's files in $AELAB_DATA_DIR/ucr/<Name>/ (see aelab/data/ucr.py):

  python experiments/train.py --config=configs/ucr_anomaly.py:GunPoint \
      --workdir=runs/ucr_anomaly_GunPoint
  python experiments/evaluate.py --workdir=runs/ucr_anomaly_GunPoint

Arguments (comma-separated): the data set's name (required: any folder of the archive;
VARIANTS lists the measured ones), then optionally `normal=<class index>` (default 0:
the first class the files declare), `code=<n>` (default 4),
`model=dense_ae|lstm_ae|gru_ae`, `steps=<n>` (default 4000), `smoke`.

Measured so far (below): the default dense AE beats the best classic detector on none
of the four sets (ties at 1.0 on BasicMotions). Only the defaults were tried: these
training sets hold 10-500 normal series, and their one-class validation part (2-50
series, normal only) can rank checkpoints by reconstruction loss but not choose a
detector's hyperparameters by AUROC as configs/ecg5000_anomaly.py does.

GunPoint:

  python experiments/train.py --config=configs/ucr_anomaly.py:GunPoint \
      --workdir=runs/ucr_anomaly_GunPoint

Result (2026-12-01, commit c679040, 2-core AMD EPYC, about 10 s of training and 1 s
of evaluation): test AUROC 0.916 / AP 0.919 (150 series, 76 normal), below PCA's upper bound
0.948 (22 components); above PCA with its components chosen on validation (0.863),
the one-class SVM (0.899) and isolation forest (0.871).

ItalyPowerDemand:

  python experiments/train.py --config=configs/ucr_anomaly.py:ItalyPowerDemand \
      --workdir=runs/ucr_anomaly_ItalyPowerDemand

Result (2026-12-01, commit c679040, 2-core AMD EPYC, about 10 s of training and 1 s
of evaluation): test AUROC 0.962 / AP 0.958 (1,029 series), below PCA (0.975 with 8
components chosen on validation, 0.977 its upper bound); above the one-class SVM
(0.951) and isolation forest (0.847).

ArrowHead:

  python experiments/train.py --config=configs/ucr_anomaly.py:ArrowHead \
      --workdir=runs/ucr_anomaly_ArrowHead

Result (2026-12-01, commit c679040, 2-core AMD EPYC, about 10 s of training and 1 s
of evaluation): test AUROC 0.608 / AP 0.624 (175 series), far below isolation forest (0.818)
and the one-class SVM (0.711); PCA 0.617 (upper bound 0.634). Reconstruction error
does not tell its classes apart: the shapes differ little in a 4-d code.

BasicMotions (multivariate, 6 channels):

  python experiments/train.py --config=configs/ucr_anomaly.py:BasicMotions \
      --workdir=runs/ucr_anomaly_BasicMotions

Result (2026-12-01, commit c679040, 2-core AMD EPYC, about 10 s of training and 1 s
of evaluation): test AUROC 1.000 / AP 1.000 (40 series, 10 normal), as does every
baseline: too easy to rank detectors.
"""

from aelab.config import base_config, make_smoke, parse_config_arg

VARIANTS = ("GunPoint", "ItalyPowerDemand", "ArrowHead", "BasicMotions")
DEFAULTS = {"normal": 0, "code": 4, "model": "dense_ae", "steps": 4000}


def get_config(arg: str | None = None):
    words = [w for w in (arg or "").split(",") if w]
    smoke = "smoke" in words
    names = [w for w in words if w != "smoke" and "=" not in w]
    args = parse_config_arg(",".join(w for w in words if "=" in w), DEFAULTS)
    if len(names) != 1 or args["model"] not in ("dense_ae", "lstm_ae", "gru_ae"):
        raise ValueError(
            f"Config argument {arg!r} is not valid: name one UCR data set (e.g. "
            "--config=configs/ucr_anomaly.py:GunPoint), optionally normal=<class>, "
            "code=<n>, model=dense_ae|lstm_ae|gru_ae, steps=<n>, smoke."
        )
    args["dataset"] = names[0]
    model = args["model"]
    config = base_config(
        data=f"ucr:{args['dataset']}",
        model=model,
        objective="reconstruction",
        likelihood="mse",
        optimizer="adamw",
        schedule="cosine",
    )
    config.data.train_labels = (args["normal"],)
    config.data.batch_size = 16
    config.data.eval_batch_size = 256
    config.data.flatten = model == "dense_ae"

    config.model.latent_dim = args["code"]
    if model == "dense_ae":
        config.model.hidden_dims = (64, 32)
        config.model.activation = "gelu"
    else:
        config.model.hidden_size = 64

    config.optimizer.learning_rate = 1e-3
    config.optimizer.end_lr_factor = 0.02
    config.optimizer.weight_decay = 1e-4

    config.train.num_steps = args["steps"]
    config.train.log_every = 200
    config.train.eval_every = 200
    config.train.checkpoint_every = 1000
    config.train.steps_per_call = 20

    config.evals.anomaly = {}
    config.evals.reconstruction = {"every": 0}
    if smoke:
        make_smoke(config, num_steps=10)
        config.evals.anomaly = {"baselines": ("pca",)}
    return config
