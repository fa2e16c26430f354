"""TensorBoard files: a finished run's hyperparameters read back as the HParams plugin
reads them, and a writer without tensorboardX that still writes metrics.jsonl."""

import math

import numpy as np
import pytest

from aelab.training import metric_writer
from aelab.training.metric_writer import MetricWriter, read_metrics, write_hparams
from tests.training.tensorboard_events import hparams_plugin_data, scalars


def test_hparams_read_back_as_the_hparams_plugin_reads_them(tmp_path):
    directory = write_hparams(
        str(tmp_path),
        {"optimizer.learning_rate": 3e-3, "model.hidden_dims": (32, 16), "model.name": "vae"},
        {"sweep/objective": 1.5},
    )
    assert directory == str(tmp_path / "tensorboard" / "hparams")
    data = hparams_plugin_data(directory)
    assert sorted(data) == [
        "_hparams_/experiment",
        "_hparams_/session_end_info",
        "_hparams_/session_start_info",
    ]
    recorded = data["_hparams_/session_start_info"].session_start_info.hparams
    assert recorded["optimizer.learning_rate"].number_value == pytest.approx(3e-3)
    assert recorded["model.hidden_dims"].string_value == "(32, 16)"
    assert recorded["model.name"].string_value == "vae"
    experiment = data["_hparams_/experiment"].experiment
    assert [m.name.tag for m in experiment.metric_infos] == ["sweep/objective"]
    assert scalars(directory) == {"sweep/objective": [1.5]}
    # Nothing was added to the run's own TensorBoard directory.
    assert [p.name for p in (tmp_path / "tensorboard").iterdir()] == ["hparams"]


def test_without_tensorboardx_metrics_are_still_written_and_it_says_how_once(
    tmp_path, monkeypatch, caplog
):
    monkeypatch.setattr(metric_writer, "SummaryWriter", None)
    for resume_step in (0, 2):
        writer = MetricWriter(str(tmp_path), resume_step=resume_step)
        writer.write_scalars(2 + resume_step, {"train/loss": 1.0, "eval/loss": math.nan})
        writer.write_image(2, "samples", np.zeros((4, 4, 1), np.uint8))
        writer.flush()
        writer.close()
    assert write_hparams(str(tmp_path), {"seed": 0}, {"sweep/objective": 1.0}) is None
    assert read_metrics(str(tmp_path)) == [
        {"step": 2, "train/loss": 1.0, "eval/loss": "nan"},
        {"step": 4, "train/loss": 1.0, "eval/loss": "nan"},
    ]
    assert not (tmp_path / "tensorboard").exists()
    assert caplog.text.count("pip install 'aelab[tensorboard]'") == 1
