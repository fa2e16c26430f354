"""A tiny two-optimizer run for the training tests: the quickstart config's dense VAE on
the 8x8 digits, trained as a FactorVAE (its discriminator has its own optimizer).

  python experiments/train.py --config=tests/training/adversarial_config.py --workdir=...

Not an experiment (no result to measure): the resume, fault-injection and sharding tests
use it as the adversarial counterpart of configs/quickstart.py.
"""

import importlib.util
import pathlib

_QUICKSTART = pathlib.Path(__file__).resolve().parents[2] / "configs" / "quickstart.py"


def get_config(arg: str | None = None):
    spec = importlib.util.spec_from_file_location("aelab_quickstart_config", _QUICKSTART)
    quickstart = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(quickstart)
    config = quickstart.get_config(arg)
    config.objective = {
        "name": "factor_vae",
        "likelihood": config.objective.likelihood,
        "gamma": 5.0,
        "discriminator_depth": 2,
        "discriminator_width": 32,
    }
    # Adam with b1 = 0.5, the paper's discriminator optimizer, at another rate.
    config.optimizer.discriminator = {"learning_rate": 1e-4, "b1": 0.5, "b2": 0.9}
    return config


def tiny_adversarial_config():
    """This config's smoke variant shrunk like the `tiny_config` fixture (one device, a
    few steps of batch 32, a constant learning rate)."""
    config = get_config("smoke")
    config.mesh.num_devices = 1
    config.model.hidden_dims = (32,)
    config.model.latent_dim = 4
    config.data.batch_size = 32
    config.data.eval_batch_size = 64
    config.train.num_steps = 8
    config.train.log_every = 2
    config.train.eval_every = 4
    config.train.checkpoint_every = 4
    config.train.steps_per_call = 2
    config.optimizer.schedule = "constant"
    return config
