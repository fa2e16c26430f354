"""A rerun with a different config must say so; continuation fields may change freely."""

import json
import logging
import os

import pytest

from aelab.evaluation import train_and_evaluate
from aelab.training import ConfigMismatchError
from aelab.training.saved_config import reconcile_saved_config
from tests.conftest import load_config


def _saved(workdir) -> dict:
    with open(os.path.join(workdir, "config.json")) as f:
        return json.load(f)


def _changes(workdir) -> list[dict]:
    path = os.path.join(workdir, "config_changes.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f]


@pytest.fixture
def started(tmp_path):
    """A work directory whose run (quickstart config) has checkpoints up to step 100."""
    config = load_config("quickstart")
    reconcile_saved_config(config, str(tmp_path), resume_step=None)
    return str(tmp_path), config


def test_changed_config_is_refused_listing_the_changes(started):
    workdir, config = started
    config.optimizer.learning_rate = 0.01
    config.model.latent_dim = 4
    with pytest.raises(
        ConfigMismatchError,
        match=r"checkpoints go up to step 100: model.latent_dim: 8 -> 4; "
        r"optimizer.learning_rate: 0.001 -> 0.01\. .*--config_mismatch=resume",
    ):
        reconcile_saved_config(config, workdir, resume_step=100)
    assert _saved(workdir)["optimizer"]["learning_rate"] == 0.001
    assert _changes(workdir) == []


def test_resume_takes_the_new_config_and_records_the_change(started):
    workdir, config = started
    config.optimizer.learning_rate = 0.01
    reconcile_saved_config(config, workdir, resume_step=100, on_mismatch="resume")
    assert _saved(workdir)["optimizer"]["learning_rate"] == 0.01
    [record] = _changes(workdir)
    assert record["step"] == 100
    assert record["changed"] == {"optimizer.learning_rate": {"old": 0.001, "new": 0.01}}


def test_continuation_fields_change_without_asking(started, caplog):
    workdir, config = started
    config.train.num_steps = 6000
    config.train.checkpoint_every = 500
    config.mesh.num_devices = 4
    reconcile_saved_config(config, workdir, resume_step=100)
    assert _saved(workdir)["train"]["num_steps"] == 6000
    assert set(_changes(workdir)[0]["changed"]) == {
        "mesh.num_devices",
        "train.checkpoint_every",
        "train.num_steps",
    }


def test_stretching_a_cosine_schedule_warns_that_the_rate_changes(tmp_path, caplog):
    config = load_config("mnist_dense:vae")  # cosine decay over num_steps
    reconcile_saved_config(config, str(tmp_path), resume_step=None)
    config.train.num_steps *= 2
    with caplog.at_level(logging.WARNING):
        reconcile_saved_config(config, str(tmp_path), resume_step=20_000)
    assert "The learning rate at step 20000 changes from" in caplog.text


def test_without_checkpoints_any_config_replaces_the_old_one(started):
    workdir, config = started
    config.model.latent_dim = 3
    reconcile_saved_config(config, workdir, resume_step=None)
    assert _saved(workdir)["model"]["latent_dim"] == 3


def test_rerun_with_a_different_config_stops_before_training(tmp_path, tiny_config):
    workdir = str(tmp_path / "run")
    train_and_evaluate(tiny_config, workdir)
    before = sorted(os.listdir(os.path.join(workdir, "checkpoints")))
    tiny_config.model.hidden_dims = (64,)
    with pytest.raises(ConfigMismatchError, match=r"model.hidden_dims: \[32\] -> \[64\]"):
        train_and_evaluate(tiny_config, workdir)
    assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == before
