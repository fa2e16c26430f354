"""The tracker callbacks of docs/tracking.md work as written: each file block, loaded
as a module with a stand-in `wandb` or `mlflow` (neither is a dependency), sends a run's
hooks to the tracker's API calls."""

import re
import sys
import types

from aelab.training import TrainCallback
from tests.conftest import REPO, load_module

PAGE = REPO / "docs" / "tracking.md"

# What a run calls: a log window at 2, then log, checkpoint and evaluation at 4.
HOOKS = [
    ("on_log", 2, {"train/loss": 3.0, "train/steps_per_sec": 10.0}),
    ("on_log", 4, {"train/loss": 2.0, "train/steps_per_sec": 11.0}),
    ("on_checkpoint", 4, None),
    ("on_evaluation", 4, {"eval/loss": 2.5, "evals/likelihood/nll": 80.0}),
]


def _file_blocks() -> dict[str, str]:
    blocks = re.findall(r"```python\n# file: (\S+)\n(.*?)```", PAGE.read_text(), flags=re.DOTALL)
    return dict(blocks)


def _load(name: str, tmp_path):
    path = tmp_path / name
    path.write_text(_file_blocks()[name])
    return load_module(path)


def _drive(callback: TrainCallback) -> None:
    assert isinstance(callback, TrainCallback)
    for hook, step, values in HOOKS:
        getattr(callback, hook)(step, *([] if values is None else [values]))
    callback.finish()


def test_the_page_has_both_callbacks():
    assert sorted(_file_blocks()) == ["mlflow_callback.py", "wandb_callback.py"]


def test_the_wandb_callback_logs_each_window_and_evaluation(tmp_path, monkeypatch, tiny_config):
    calls = []

    class Run:
        def __init__(self):
            self.summary = {}

        def log(self, data, step):
            calls.append(("log", step, dict(data)))

        def finish(self):
            calls.append(("finish",))

    def init(config, **kwargs):
        calls.append(("init", config, kwargs))
        return Run()

    monkeypatch.setitem(sys.modules, "wandb", types.SimpleNamespace(init=init))
    module = _load("wandb_callback.py", tmp_path)
    callback = module.WandbCallback(tiny_config, project="aelab", name="tiny")
    _drive(callback)
    assert calls[0] == ("init", tiny_config.to_dict(), {"project": "aelab", "name": "tiny"})
    assert calls[1:] == [
        ("log", 2, HOOKS[0][2]),
        ("log", 4, HOOKS[1][2]),
        ("log", 4, HOOKS[3][2]),
        ("finish",),
    ]
    assert callback.run.summary == {"last_checkpoint_step": 4}


def test_the_mlflow_callback_logs_the_config_windows_and_evaluations(
    tmp_path, monkeypatch, tiny_config
):
    calls = []
    mlflow = types.SimpleNamespace(
        start_run=lambda run_name=None: calls.append(("start_run", run_name)) or object(),
        log_params=lambda params: calls.append(("log_params", dict(params))),
        set_tag=lambda key, value: calls.append(("set_tag", key, value)),
        log_metrics=lambda metrics, step: calls.append(("log_metrics", step, dict(metrics))),
        end_run=lambda: calls.append(("end_run",)),
    )
    monkeypatch.setitem(sys.modules, "mlflow", mlflow)
    module = _load("mlflow_callback.py", tmp_path)
    _drive(module.MlflowCallback(tiny_config, "/runs/tiny", run_name="tiny"))
    assert calls[0] == ("start_run", "tiny")
    params = calls[1][1]
    assert params["optimizer.learning_rate"] == tiny_config.optimizer.learning_rate
    assert params["model.latent_dim"] == 4
    assert not any(isinstance(v, dict) for v in params.values())  # flat, as MLflow needs
    assert calls[2:] == [
        ("set_tag", "aelab.workdir", "/runs/tiny"),
        ("log_metrics", 2, HOOKS[0][2]),
        ("log_metrics", 4, HOOKS[1][2]),
        ("set_tag", "aelab.last_checkpoint_step", 4),
        ("log_metrics", 4, HOOKS[3][2]),
        ("end_run",),
    ]
