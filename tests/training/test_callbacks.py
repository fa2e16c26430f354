"""A run calls its `TrainCallback`s at the steps it logs, evaluates and checkpoints."""

import os

import pytest

from aelab.evaluation import train_and_evaluate
from aelab.training import TrainCallback, train
from aelab.training.metric_writer import read_metrics


class Recorder(TrainCallback):
    """Records every hook call as (hook, step, names or None), in order."""

    def __init__(self):
        self.calls = []

    def on_log(self, step, scalars):
        self.calls.append(("log", step, sorted(scalars)))

    def on_evaluation(self, step, metrics):
        self.calls.append(("evaluation", step, dict(metrics)))

    def on_checkpoint(self, step):
        self.calls.append(("checkpoint", step, None))


@pytest.mark.slow
def test_hooks_are_called_at_the_log_evaluation_and_checkpoint_steps(tmp_path, tiny_config):
    # tiny_config: 8 steps, log every 2, evaluate and checkpoint every 4, 2 steps per call.
    recorder = Recorder()
    workdir = str(tmp_path / "run")
    final = train_and_evaluate(tiny_config, workdir, callbacks=[recorder])

    steps = {hook: [s for h, s, _ in recorder.calls if h == hook] for hook in ("log", "evaluation")}
    assert steps == {"log": [2, 4, 6, 8], "evaluation": [4, 8]}
    assert [s for h, s, _ in recorder.calls if h == "checkpoint"] == [4, 8]
    assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == ["4", "8"]
    # At a checkpoint step: the log, then the checkpoint, then the evaluation (a hook that
    # raises there, e.g. a pruner, leaves that step's checkpoint saved).
    assert [(h, s) for h, s, _ in recorder.calls if s == 4] == [
        ("log", 4),
        ("checkpoint", 4),
        ("evaluation", 4),
    ]
    logged = [names for h, _, names in recorder.calls if h == "log"]
    assert all("train/loss" in names for names in logged)
    # The evaluation hooks get what was written to metrics.jsonl, and the last is returned.
    written = {r["step"]: r for r in read_metrics(workdir) if "eval/loss" in r}
    for hook, step, metrics in recorder.calls:
        if hook == "evaluation":
            assert metrics == {k: v for k, v in written[step].items() if k != "step"}
    assert recorder.calls[-1] == ("evaluation", 8, final)


def test_a_callback_that_is_not_a_train_callback_is_refused(tmp_path, tiny_config):
    with pytest.raises(TypeError, match=r"not an aelab\.training\.TrainCallback: subclass it"):
        train(tiny_config, str(tmp_path / "run"), callbacks=[lambda step, metrics: None])
    assert not os.path.exists(tmp_path / "run")
