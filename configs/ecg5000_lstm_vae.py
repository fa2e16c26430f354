r"""An LSTM VAE on ECG5000 heartbeats, with KL warm-up against posterior collapse.

Needs the ECG5000 files under $AELAB_DATA_DIR/ecg5000 (see aelab.data):

  python experiments/train.py --config=configs/ecg5000_lstm_vae.py \
      --workdir=runs/ecg5000_lstm_vae

Smoke version: --config=configs/ecg5000_lstm_vae.py:smoke

Result (measured 2026-11-24, evaluated at commit 1476ea5, 2-core CPU shared with other
jobs): a shortened CPU budget, 775 of 5,000 steps (169.86 epochs; 83 s of training, 9.34
steps/s under load; the run was stopped by SIGTERM, which checkpoints): test MSE per
value 0.3675, PSNR 29.5 dB (`python experiments/evaluate.py
--workdir=runs/models/ecg5000_lstm_vae --step=latest --evals=reconstruction,cost`). This
shows that the config trains, not what its full 5,000 steps reach.
"""

from aelab.config import base_config, check_variant, make_smoke


def get_config(arg: str | None = None):
    variant = check_variant(arg)
    config = base_config(
        data="ecg5000",
        model="lstm_vae",
        objective="elbo",
        likelihood="gaussian",
        optimizer="adam",
        schedule="cosine",
    )
    # Train on normal beats only (label 0), as an anomaly detector would; evaluate on all.
    config.data.train_labels = (0,)
    config.data.batch_size = 64
    config.data.eval_batch_size = 512

    config.model.hidden_size = 64
    config.model.num_layers = 1
    config.model.latent_dim = 8
    config.model.teacher_forcing = False

    config.objective.likelihood_scale = 0.1
    config.objective.kl_warmup_steps = 1000

    config.optimizer.learning_rate = 1e-3
    config.optimizer.end_lr_factor = 0.05

    config.train.num_steps = 5_000
    config.train.log_every = 250
    config.train.eval_every = 1_000
    config.train.checkpoint_every = 1_000
    config.train.steps_per_call = 25
    if variant == "smoke":
        make_smoke(config, num_steps=10)
        config.data.eval_batch_size = 128
        config.train.eval_examples = 128
    return config
