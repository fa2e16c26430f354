"""SIGTERM / SIGINT: checkpoint at the next step boundary, stop cleanly, resume later.

The same through `experiments/train.py` in a subprocess (exit status, message, resumed
run bit-identical to an uninterrupted one) is in test_fault_injection.py.
"""

import os
import signal

import pytest

from aelab.evaluation import train_and_evaluate
from aelab.training import TrainCallback, TrainingPreempted
from aelab.training.metric_writer import read_metrics
from aelab.training.preemption import PreemptionWatcher


def test_watcher_turns_a_signal_into_a_stop_request_and_restores_handlers():
    before = signal.getsignal(signal.SIGTERM)
    with PreemptionWatcher() as watcher:
        assert not watcher.should_stop()
        os.kill(os.getpid(), signal.SIGTERM)
        assert watcher.should_stop()
        stop = watcher.preempted(12, "/runs/x")
    assert signal.getsignal(signal.SIGTERM) is before
    assert (stop.step, stop.signal_name, stop.signal_number) == (12, "SIGTERM", signal.SIGTERM)
    assert "rerun the same command with the same workdir" in str(stop)


def test_a_signal_the_run_finished_before_acting_on_is_passed_on():
    # E.g. SIGTERM during the final evaluation: the run ends normally, and a sweep
    # worker (whose handler this stands for) must still stop before its next trial.
    received = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: received.append(signum))
    try:
        with PreemptionWatcher():
            os.kill(os.getpid(), signal.SIGTERM)
            assert received == []
        assert received == [signal.SIGTERM]
        with PreemptionWatcher() as watcher:
            os.kill(os.getpid(), signal.SIGTERM)
            assert watcher.should_stop()
            watcher.preempted(3, "/runs/x")  # acted on: the loop raises this
        assert received == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_second_ctrl_c_interrupts_at_once():
    with PreemptionWatcher() as watcher:
        os.kill(os.getpid(), signal.SIGINT)
        assert watcher.should_stop()
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)


class SignalAtEvaluation(TrainCallback):
    """Sends a signal to this process after the evaluation of one step."""

    def __init__(self, step: int, signum: int):
        self.step, self.signum = step, signum

    def on_evaluation(self, step, metrics):
        if step == self.step:
            os.kill(os.getpid(), self.signum)


# SIGINT takes the same path as SIGTERM: its run (11 s) is in the slow tier.
@pytest.mark.parametrize(
    "signum", [signal.SIGTERM, pytest.param(signal.SIGINT, marks=pytest.mark.slow)]
)
def test_signal_saves_at_the_next_step_boundary_and_the_rerun_resumes(
    tmp_path, tiny_config, signum
):
    workdir = str(tmp_path / "run")
    with pytest.raises(TrainingPreempted) as stop:
        # Steps come two per call: the signal at step 4 is handled after steps 5-6.
        train_and_evaluate(tiny_config, workdir, callbacks=[SignalAtEvaluation(4, signum)])
    assert stop.value.step == 6
    assert stop.value.signal_name == signal.Signals(signum).name
    assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == ["4", "6"]
    # No evaluation at the preemption step: the resumed run logs what a straight one would.
    assert [r["step"] for r in read_metrics(workdir) if "eval/loss" in r] == [4]

    train_and_evaluate(tiny_config, workdir)
    assert [r["step"] for r in read_metrics(workdir)] == [2, 4, 4, 6, 8, 8]
