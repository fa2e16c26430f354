r"""Population sweep: 16 quickstart VAEs (digits) that differ in seed, learning rate and
beta, trained together in one vmapped step (see aelab/sweeps/population.py).

  python experiments/sweep.py --sweep=configs/sweeps/quickstart_population.py \
      --sweep_dir=runs/sweep_qs_population

Smoke version (4 members, 20 steps): --sweep=configs/sweeps/quickstart_population.py:smoke

Result: not measured yet.
"""

import os

from aelab.config import check_variant
from aelab.sweeps import Float, Int, Sweep

QUICKSTART = os.path.join(os.path.dirname(__file__), os.pardir, "quickstart.py")


def get_sweep(arg: str | None = None) -> Sweep:
    variant = check_variant(arg)
    size = 4 if variant == "smoke" else 16
    overrides = {"train.num_steps": 1500, "train.eval_every": 500, "mesh.num_devices": 1}
    if variant == "smoke":
        overrides = {"mesh.num_devices": 1}
    return Sweep(
        config_file=QUICKSTART,
        config_arg=variant,
        overrides=overrides,
        space={
            "seed": Int(0, 10_000),
            "optimizer.learning_rate": Float(3e-4, 1e-2, log=True),
            "objective.beta": Float(0.25, 2.0),
        },
        metric="eval/loss",
        direction="minimize",
        num_trials=size,
        population_size=size,
        sampler="random",
        pruner=None,
    )
