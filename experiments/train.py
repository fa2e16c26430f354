r"""Trains a model: `python experiments/train.py --config=configs/X.py --workdir=DIR`.

Override any config field on the command line, e.g. `--config.train.num_steps=5000` or
`--config=configs/mnist_vae.py:smoke` for a config's smoke variant. A rerun with the same
--workdir resumes from the latest checkpoint there.
"""

from absl import app, flags
from ml_collections import config_flags

from aelab.training import train_and_evaluate

_CONFIG = config_flags.DEFINE_config_file("config", None, "Experiment config file.")
_WORKDIR = flags.DEFINE_string("workdir", None, "Directory for checkpoints, logs and images.")
flags.mark_flags_as_required(["config", "workdir"])


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    train_and_evaluate(_CONFIG.value, _WORKDIR.value)


if __name__ == "__main__":
    app.run(main)
