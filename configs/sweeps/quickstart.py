r"""Sweep: learning rate and latent size of the quickstart VAE (digits), 6 trials.

  python experiments/sweep.py --sweep=configs/sweeps/quickstart.py --sweep_dir=runs/sweep_qs \
      --workers=2

Smoke version (30 steps a trial, an evaluation and checkpoint every 10, for tests):
--sweep=configs/sweeps/quickstart.py:smoke

Result (measured, commit of this docstring): 3 trials complete, 3 pruned by the median
pruner; best eval/loss 24.06 (learning rate 2.1e-3, latent_dim 4) after 1,500 steps. 2 min
42 s wall with --workers=2 (65 s of CPU) on the 2-core CPU while it was shared with other
jobs (load average about 8), so about a minute is to be expected on an idle machine but
was not measured there.
"""

import os

import optuna

from aelab.config import check_variant
from aelab.sweeps import Choice, Float, Sweep

QUICKSTART = os.path.join(os.path.dirname(__file__), os.pardir, "quickstart.py")


def get_sweep(arg: str | None = None) -> Sweep:
    variant = check_variant(arg)
    overrides = {"train.num_steps": 1500, "train.eval_every": 500}
    if variant == "smoke":
        overrides = {
            "mesh.num_devices": 1,
            "train.num_steps": 30,
            "train.log_every": 10,
            "train.eval_every": 10,
            "train.checkpoint_every": 10,
        }
    return Sweep(
        config_file=QUICKSTART,
        config_arg=variant,
        overrides=overrides,
        space={
            "optimizer.learning_rate": Float(3e-4, 1e-2, log=True),
            "model.latent_dim": Choice([4, 8, 16]),
        },
        metric="eval/loss",
        direction="minimize",
        num_trials=6,
        sampler="tpe",
        sampler_options={"n_startup_trials": 4},
        pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=500),
    )
