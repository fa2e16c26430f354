"""The loop core's time limit: the step that crosses it is the last one, evaluated and
checkpointed, however long fetching the metrics of asynchronously dispatched steps takes."""

import time

import numpy as np

from aelab.training.early_stopping import EarlyStopping
from aelab.training.loop import LoopCore, LoopOptions, Member
from aelab.training.metric_window import MetricWindow
from aelab.training.nonfinite import NonFiniteGuard
from aelab.training.preemption import PreemptionWatcher


class _SlowToFetch:
    """A trainee whose steps return at once and whose metrics take `fetch_seconds` to
    arrive, as jitted steps do: dispatch is asynchronous, fetching waits for the work."""

    num_members = 1
    batches = None

    def __init__(self, fetch_seconds: float):
        self.fetch_seconds = fetch_seconds
        self.evaluations: list[tuple[int, bool]] = []

    def train(self, k):
        return np.ones(k)

    def per_member(self, metrics):
        time.sleep(self.fetch_seconds)
        return [{"loss": np.asarray(metrics)}]

    def evaluate(self, step, *, is_last, train_seconds):
        self.evaluations.append((step, is_last))
        return [{"eval/loss": 1.0 / step}]

    def after_evaluation(self, step, writers):
        pass

    def state(self):
        return {}

    def abstract_state(self):
        return {}

    def load_state(self, state):
        pass


class _RecordingCheckpointer:
    def __init__(self):
        self.saved: list[int] = []

    def save(self, step, state, batches, loop_state, metrics=None):
        self.saved.append(step)

    def restore_latest(self, abstract_state, batches):
        return None

    def wait(self):
        pass

    def close(self):
        pass


def test_the_step_that_crosses_the_time_limit_is_evaluated_and_checkpointed(tmp_path):
    trainee = _SlowToFetch(fetch_seconds=0.05)
    checkpointer = _RecordingCheckpointer()
    member = Member(
        workdir=str(tmp_path),
        window=MetricWindow(),
        nonfinite=NonFiniteGuard("stop"),
        early_stopping=EarlyStopping(metric="eval/loss"),
    )
    loop = LoopOptions(
        num_steps=1_000_000,
        log_every=1,
        eval_every=1_000_000,
        checkpoint_every=1_000_000,
        time_limit_minutes=0.3 / 60,  # 0.3 s: crossed while fetching some step's metrics
    )
    core = LoopCore(
        trainee,
        loop=loop,
        checkpointer=checkpointer,
        members=[member],
        preemption=PreemptionWatcher(),
        workdir=str(tmp_path),
        is_chief=True,
        rank_checkpoints=False,
    )
    outcome = core.run()
    assert core.stopped_by_time and 0 < outcome.step < 1_000_000
    assert outcome.train_seconds >= 0.3
    assert trainee.evaluations == [(outcome.step, True)]
    assert checkpointer.saved == [outcome.step]
    assert outcome.eval_metrics == [{"eval/loss": 1.0 / outcome.step}]
