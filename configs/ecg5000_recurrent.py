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

Result (measured 2026-11-24, evaluated at commit a5dfb23, 2-core CPU shared with other
jobs): a shortened CPU budget, 525 of 5,000 steps (115.07 epochs; 98 s of training, 5.34
steps/s under load; the run was stopped by SIGTERM, which checkpoints): test MSE per
value 1.54, PSNR 23.4 dB (`python experiments/evaluate.py
--workdir=runs/models/ecg5000_gru_ae --step=latest --evals=reconstruction,cost`). This
shows that the config trains, not what its full 5,000 steps reach.

lstm_vae: an LSTM VAE (one layer, 8-d code), with KL warm-up over 1,000 steps against
posterior collapse.

  python experiments/train.py --config=configs/ecg5000_recurrent.py:lstm_vae \
      --workdir=runs/ecg5000_recurrent_lstm_vae

Result (measured 2026-11-24, evaluated at commit 1476ea5, 2-core CPU shared with other
jobs): a shortened CPU budget, 775 of 5,000 steps (169.86 epochs; 83 s of training, 9.34
steps/s under load; the run was stopped by SIGTERM, which checkpoints): test MSE per
value 0.3675, PSNR 29.5 dB (`python experiments/evaluate.py
--workdir=runs/models/ecg5000_lstm_vae --step=latest --evals=reconstruction,cost`). This
shows that the config trains, not what its full 5,000 steps reach.

gru_vae: the same VAE with a GRU.

  python experiments/train.py --config=configs/ecg5000_recurrent.py:gru_vae \
      --workdir=runs/ecg5000_recurrent_gru_vae

Result (measured 2026-11-24, evaluated at commit 1476ea5, 2-core CPU shared with other
jobs): a shortened CPU budget, 775 of 5,000 steps (169.86 epochs; 72 s of training, 10.80
steps/s under load; the run was stopped by SIGTERM, which checkpoints): test MSE per
value 0.3391, PSNR 28.8 dB (`python experiments/evaluate.py
--workdir=runs/models/ecg5000_gru_vae --step=latest --evals=reconstruction,cost`). This
shows that the config trains, not what its full 5,000 steps reach.
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
