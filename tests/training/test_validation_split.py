"""Model selection on a validation split carved from the training data, never the test
split; and a time limit that ends a run as its last step would."""

import json
import os

import numpy as np
import pytest

from aelab.config import ConfigError
from aelab.data.run_splits import carve_validation, run_splits
from aelab.data.sources import load_split
from aelab.evaluation import train_and_evaluate
from aelab.training.metric_writer import read_metrics


def _info(workdir: str) -> dict:
    with open(os.path.join(workdir, "run_info.json")) as f:
        return json.load(f)


def test_the_validation_part_is_fixed_disjoint_and_not_trained_on(tiny_config):
    source, _ = load_split(tiny_config.data, "train")
    train, validation = carve_validation(source, 0.1)
    assert len(validation) == round(0.1 * len(source)) and len(train) + len(validation) == len(
        source
    )
    ids = lambda s: {int(i) for i in s._indices}
    assert not ids(train) & ids(validation)
    again, _ = carve_validation(source, 0.1)
    assert ids(again) == ids(train)  # the same for every config seed
    splits = run_splits(tiny_config.data)
    assert splits.has_validation and len(splits.train) == len(train)
    tiny_config.data.validation_fraction = 0.0
    assert not run_splits(tiny_config.data).has_validation


def test_checkpoints_are_ranked_on_validation_only(tmp_path, tiny_config):
    with_validation = str(tmp_path / "with")
    train_and_evaluate(tiny_config, with_validation)
    info = _info(with_validation)
    assert info["best_step"] is not None
    tiny_config.data.validation_fraction = 0.0
    without = str(tmp_path / "without")
    train_and_evaluate(tiny_config, without)
    info = _info(without)
    assert info["best_step"] is None  # the test split never picks a checkpoint
    tiny_config.train.early_stopping_patience = 2
    with pytest.raises(ConfigError, match=r"early_stopping_patience=2 needs a validation split"):
        train_and_evaluate(tiny_config, str(tmp_path / "stopping"))


def test_both_a_validation_split_and_a_fraction_are_refused(tmp_path, tiny_config):
    tiny_config.data.validation_split = "validation"
    with pytest.raises(ConfigError, match=r"validation_fraction=0.1 is not valid: must be 0"):
        train_and_evaluate(tiny_config, str(tmp_path / "run"))
    assert not (tmp_path / "run").exists()


@pytest.mark.slow  # waits out a time limit twice (12 s)
def test_a_time_limit_ends_the_run_with_a_checkpoint_and_an_evaluation(tmp_path, tiny_config):
    # More steps than a tiny model runs in 3 s on any machine (a fast one ran 10,000).
    tiny_config.train.num_steps = 1_000_000
    tiny_config.train.checkpoint_every = 1_000_000
    tiny_config.train.time_limit_minutes = 0.05  # 3 s
    # Only the time limit may end it (a fast machine's many evaluations could otherwise
    # stop it early on a validation loss that stopped improving).
    tiny_config.train.early_stopping_patience = 0
    workdir = str(tmp_path / "run")
    train_and_evaluate(tiny_config, workdir)
    info = _info(workdir)
    assert info["stopped_by_time_limit"] and 0 < info["final_step"] < 1_000_000
    assert 3.0 <= info["train_seconds"] < 60.0
    records = read_metrics(workdir)
    assert records[-1]["step"] == info["final_step"] and "eval/loss" in records[-1]
    assert os.listdir(os.path.join(workdir, "checkpoints")) == [str(info["final_step"])]
    # A rerun has no time left: it trains nothing more.
    train_and_evaluate(tiny_config, workdir)
    assert _info(workdir)["final_step"] == info["final_step"]
    assert np.isfinite(records[-1]["eval/loss"])
