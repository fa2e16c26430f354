r"""An LSTM sequence-to-sequence autoencoder on ECG5000 heartbeats [140, 1].

Needs the ECG5000 files under $AELAB_DATA_DIR/ecg5000 (see aelab.data):

  python experiments/train.py --config=configs/ecg5000_lstm_ae.py \
      --workdir=runs/ecg5000_lstm_ae

Smoke version: --config=configs/ecg5000_lstm_ae.py:smoke

Result (measured 2026-11-23, commit 9962a19, 2-core CPU shared with other jobs): 5,000
steps in 233 s of training; the best checkpoint (step 3,000, by eval/loss) scores the
anomalous test beats by reconstruction error with AUROC 0.981 and average precision 0.962
(`python experiments/evaluate.py --workdir=runs/ecg5000_lstm_ae --evals=anomaly`).
"""

from aelab.config import base_config, check_variant, make_smoke


def get_config(arg: str | None = None):
    variant = check_variant(arg)
    config = base_config(
        data="ecg5000",
        model="lstm_ae",
        objective="reconstruction",
        likelihood="mse",
        optimizer="adam",
        schedule="cosine",
    )
    # Train on normal beats only (label 0), as an anomaly detector would; evaluate on all.
    config.data.train_labels = (0,)
    config.data.batch_size = 64
    config.data.eval_batch_size = 512

    config.model.hidden_size = 64
    config.model.num_layers = 1
    config.model.latent_dim = 16
    config.model.teacher_forcing = False

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
