r"""LSTM and GRU autoencoders and VAEs on ECG5000 heartbeats [140, 1], one per variant.

Needs the ECG5000 files under $AELAB_DATA_DIR/ecg5000 (see aelab.data). Every variant
trains on normal beats only (label 0), as an anomaly detector would, and evaluates on
all: batch 64, hidden size 64, Adam at 1e-3 with cosine decay to 5%, 5,000 steps. The
argument names the variant (there is no default); append ",smoke" for its 10-step smoke
version, e.g. `:lstm_ae,smoke`. The results below were measured when each variant was
its own file, configs/ecg5000_<variant>.py, with the same settings.

lstm_ae: an LSTM sequence-to-sequence autoencoder (one layer, 16-d code).

  python experiments/train.py --config=configs/ecg5000_recurrent.py:lstm_ae \
      --workdir=runs/ecg5000_recurrent_lstm_ae

Result (measured 2026-11-23, commit 9962a19, 2-core CPU shared with other jobs): 5,000
steps in 233 s of training; the best checkpoint (step 3,000, by eval/loss) scores the
anomalous test beats by reconstruction error with AUROC 0.981 and average precision 0.962
(`python experiments/evaluate.py --workdir=runs/ecg5000_lstm_ae --evals=anomaly`).

gru_ae: a two-layer GRU autoencoder (16-d code), trained with teacher forcing.

  python experiments/train.py --config=configs/ecg5000_recurrent.py:gru_ae \
      --workdir=runs/ecg5000_recurrent_gru_ae

Result (measured 2026-12-03, trained at commit 5c94f0e, 2-core AMD EPYC shared with one
other training run): the full 5,000 steps in 474 s of training (490 s wall); the
checkpoint chosen by validation loss, step 4,000: test MSE per value 0.640 over the
4,500 test beats (0.314 on the normal ones), PSNR 27.5 dB. As an anomaly detector
(`python experiments/evaluate.py --workdir=runs/ecg5000_recurrent_gru_ae
--evals=cost,generation,reconstruction,anomaly`, the anomaly evaluator's classic
detectors fitted on the same normal training beats and scored on the same test beats) it
loses to every classic one: reconstruction-error AUROC 0.932 / AP 0.846 against PCA
0.984 / 0.953 (8 components, chosen on validation), PCA's upper bound 0.993 / 0.986 and
the one-class SVM 0.989 / 0.976: teacher forcing lets the decoder follow an anomalous
beat as well as a normal one (its latent distance scores 0.979).
configs/ecg5000_anomaly.py holds the detector that beats them.

lstm_vae: an LSTM VAE (one layer, 8-d code), with KL warm-up over 1,000 steps against
posterior collapse.

  python experiments/train.py --config=configs/ecg5000_recurrent.py:lstm_vae \
      --workdir=runs/ecg5000_recurrent_lstm_vae

Result (measured 2026-12-03, commit 2708edf, 2-core AMD EPYC shared with one other
training run): the full 5,000 steps in 259 s of training (276 s wall); the checkpoint
chosen by validation loss, step 5,000: test MSE per value 0.348 (0.087 on the normal
beats), PSNR 31.1 dB. Scored by its negative ELBO (`python experiments/evaluate.py
--workdir=runs/ecg5000_recurrent_lstm_vae
--evals=cost,generation,reconstruction,anomaly`, the anomaly evaluator's classic
detectors fitted on the same normal training beats and scored on the same test beats):
AUROC 0.984 / AP 0.971, level with PCA with validation-chosen components (0.984 / 0.953)
and below PCA's upper bound (0.993 / 0.986) and the one-class SVM (0.989 / 0.976).

gru_vae: the same VAE with a GRU.

  python experiments/train.py --config=configs/ecg5000_recurrent.py:gru_vae \
      --workdir=runs/ecg5000_recurrent_gru_vae

Result (measured 2026-12-03, commit 2708edf, 2-core AMD EPYC shared with one other
training run): the full 5,000 steps in 161 s of training (172 s wall); the checkpoint
chosen by validation loss, step 5,000: test MSE per value 0.305 (0.071 on the normal
beats), PSNR 32.0 dB. Scored by its negative ELBO (`python experiments/evaluate.py
--workdir=runs/ecg5000_recurrent_gru_vae
--evals=cost,generation,reconstruction,anomaly`, the anomaly evaluator's classic
detectors fitted on the same normal training beats and scored on the same test beats):
AUROC 0.986 / AP 0.967, above PCA with validation-chosen components (0.984 / 0.953) and
below PCA's upper bound (0.993 / 0.986) and the one-class SVM (0.989 / 0.976).
"""

from aelab.config import base_config, make_smoke

VARIANTS = ("lstm_ae", "gru_ae", "lstm_vae", "gru_vae")  # each also the name of its model


def get_config(arg: str | None = None):
    variant, _, smoke = (arg or "").partition(",")
    if variant not in VARIANTS or smoke not in ("", "smoke"):
        raise ValueError(
            f"Config argument {arg!r} is not valid: name a variant, one of "
            f"{', '.join(VARIANTS)} (e.g. --config=configs/ecg5000_recurrent.py:lstm_ae, "
            "or :lstm_ae,smoke for its smoke version)."
        )
    vae = variant.endswith("_vae")
    config = base_config(
        data="ecg5000",
        model=variant,
        objective="elbo" if vae else "reconstruction",
        likelihood="gaussian" if vae else "mse",
        optimizer="adam",
        schedule="cosine",
    )
    # Train on normal beats only (label 0), as an anomaly detector would; evaluate on all.
    config.data.train_labels = (0,)
    config.data.batch_size = 64
    config.data.eval_batch_size = 512

    config.model.hidden_size = 64
    config.model.num_layers = 2 if variant == "gru_ae" else 1
    config.model.latent_dim = 8 if vae else 16
    # Teacher forcing (gru_ae only): training steps see the previous true value;
    # evaluation reconstructs free-running either way.
    config.model.teacher_forcing = variant == "gru_ae"

    if vae:
        config.objective.likelihood_scale = 0.1
        config.objective.kl_warmup_steps = 1000

    config.optimizer.learning_rate = 1e-3
    config.optimizer.end_lr_factor = 0.05

    config.train.num_steps = 5_000
    config.train.log_every = 250
    config.train.eval_every = 1_000
    config.train.checkpoint_every = 1_000
    config.train.steps_per_call = 25
    if smoke:
        make_smoke(config, num_steps=10)
        config.data.eval_batch_size = 128
        config.train.eval_examples = 128
    return config
