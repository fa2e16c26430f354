"""Bad input gets a clear error that names the problem and the fix."""

import os

import pytest

from aelab.config import ConfigError
from aelab.evaluation import train_and_evaluate
from aelab.training import NonFiniteLossError


def test_unknown_model_name_lists_valid_names(tmp_path, tiny_config):
    tiny_config.model.name = "dense_vea"
    with pytest.raises(ConfigError, match=r"Unknown model 'dense_vea'.*dense_vae"):
        train_and_evaluate(tiny_config, str(tmp_path))


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("optimizer.name", "adamm", r"Unknown optimizer 'adamm'.*adamw"),
        ("objective.name", "elbow", r"Unknown objective 'elbow'.*elbo"),
        ("objective.likelihood", "poisson", r"Unknown likelihood 'poisson'.*bernoulli"),
        ("optimizer.schedule", "cosin", r"Unknown learning-rate schedule 'cosin'.*cosine"),
        ("data.binarize", "yes", r"config.data.binarize='yes' is not valid"),
        ("model.activation", "rleu", r"Unknown activation 'rleu'.*relu"),
    ],
)
def test_bad_config_values(tmp_path, tiny_config, field, value, message):
    section, name = field.split(".")
    tiny_config[section][name] = value
    with pytest.raises(ValueError, match=message):
        train_and_evaluate(tiny_config, str(tmp_path))


def test_batch_size_must_divide_among_devices(tmp_path, tiny_config):
    tiny_config.mesh.num_devices = 8
    tiny_config.data.batch_size = 12
    with pytest.raises(ValueError, match=r"batch_size=12 does not divide among 8 devices"):
        train_and_evaluate(tiny_config, str(tmp_path))


# A whole run (12 s); tests/training/test_nonfinite.py keeps the stop policy in the README tier.
@pytest.mark.slow
def test_nan_loss_stops_with_step_and_keeps_last_good_checkpoint(tmp_path, tiny_config):
    workdir = str(tmp_path / "run")
    train_and_evaluate(tiny_config, workdir)  # 8 good steps, checkpoints at 4 and 8
    tiny_config.train.num_steps = 16
    tiny_config.optimizer.learning_rate = 1e30
    with pytest.raises(
        NonFiniteLossError, match=r"diverged at step (9|10|11|12).*step 8\) is kept"
    ):
        train_and_evaluate(tiny_config, workdir, config_mismatch="resume")
    assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == ["4", "8"]
