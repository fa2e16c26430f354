"""The loop core: scheduling, metric windows, evaluation, checkpointing, preemption,
early stopping and non-finite handling, in one implementation.

Two things are trained through it: a single run (`aelab.training.single_run`) and a
population of members updated in one step (`aelab.sweeps.population`). Both implement
`Trainee`; the loop keeps one `Member` record per member (its metric window, non-finite
guard, early stopping, log writer and evaluation history) and one checkpoint of the
whole trainee. A rerun resumes from the latest intact checkpoint: state, data-iterator
position and every member's bookkeeping, so an interrupted run ends bit-identical to an
uninterrupted one.

Events happen at multiples of `log_every`, `eval_every` and `checkpoint_every` and at the
last step; a fused call (`steps_per_call`) never crosses one. A checkpoint step is also
an evaluation step (checkpoints are ranked by `best_metric`). A preemption signal saves
a checkpoint at the next call boundary, which is not an evaluation step, so the resumed
run logs and evaluates exactly what an uninterrupted one would.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import jax
import numpy as np
from absl import logging

from aelab.core.options import Options, option, options_class
from aelab.training.batches import TrainBatches
from aelab.training.checkpointing import Checkpointer
from aelab.training.early_stopping import EarlyStopping
from aelab.training.metric_window import MetricWindow
from aelab.training.metric_writer import MetricWriter
from aelab.training.nonfinite import NonFiniteGuard, NonFiniteLossError
from aelab.training.preemption import PreemptionWatcher
from aelab.training.progress import Progress


@options_class
class LoopOptions(Options):
    """`config.train` options of the loop's length and schedule."""

    num_steps: int = option(10_000, "optimizer updates in the whole run", minimum=1)
    log_every: int = option(100, "steps between logged train means (0: only at the end)", minimum=0)
    eval_every: int = option(
        1_000, "steps between evaluations on the eval split (0: at checkpoints only)", minimum=0
    )
    checkpoint_every: int = option(
        1_000, "steps between checkpoints (0: only at the end)", minimum=0
    )
    steps_per_call: int = option(
        1, "steps fused into one jitted call (lax.scan); fewer host round trips", minimum=1
    )
    eval_examples: int | None = option(
        None, "evaluate on the first this many examples (None: the whole eval split)", minimum=1
    )
    time_limit_minutes: float | None = option(
        None,
        "end the run (log, evaluate, checkpoint, as at the last step) once its training "
        "time passes this many minutes (None: no limit)",
        above=0.0,
    )


class TrainCallback:
    """Hooks the loop calls; subclass and override the ones you need.

    `on_log(step, scalars)` after each logged window ({"train/<name>": mean, ...});
    `on_evaluation(step, metrics)` after each evaluation and the checkpoint of that step
    ({"eval/<name>": value, ...}; may raise to stop the run, its checkpoint is saved);
    `on_checkpoint(step)` after each checkpoint is queued.
    """

    def on_log(self, step: int, scalars: dict[str, float]) -> None:
        """After each logged window."""

    def on_evaluation(self, step: int, metrics: dict[str, float]) -> None:
        """After each evaluation."""

    def on_checkpoint(self, step: int) -> None:
        """After each checkpoint save is started."""


def check_callbacks(callbacks: Sequence[Any]) -> None:
    """Raises TypeError for anything in `callbacks` that is not a `TrainCallback`."""
    for callback in callbacks:
        if not isinstance(callback, TrainCallback):
            raise TypeError(
                f"Callback {callback!r} is not an aelab.training.TrainCallback: subclass it "
                "and override on_log, on_evaluation or on_checkpoint."
            )


class Trainee(Protocol):
    """What the loop trains: one run (one member) or a population (P members).

    Attributes:
      num_members: P (1 for a single run).
      batches: the training batch source (its position goes into checkpoints).
    """

    num_members: int
    batches: TrainBatches

    def train(self, k: int) -> Any:
        """Runs k steps; returns their metrics, still on the devices."""

    def per_member(self, metrics: Any) -> list[dict[str, np.ndarray]]:
        """Host metrics of `train` -> one {name: [k]} per member."""

    def evaluate(self, step: int, *, is_last: bool, train_seconds: float) -> list[dict]:
        """Evaluation metrics of each member ({"eval/<name>": value, ...})."""

    def after_evaluation(self, step: int, writers: Sequence[MetricWriter]) -> None:
        """Extra outputs at an evaluation step (image grids)."""

    def state(self) -> Any:
        """The pytree a checkpoint saves."""

    def abstract_state(self) -> Any:
        """Shapes, dtypes and shardings of `state()`, to restore into."""

    def load_state(self, state: Any) -> None:
        """Continues from a restored `state()`."""


@dataclasses.dataclass
class Member:
    """The loop's bookkeeping for one member.

    Attributes:
      workdir: where its metrics.jsonl and TensorBoard events go.
      window: train metrics summed since the last log.
      nonfinite: the non-finite policy applied to its metrics.
      early_stopping: tracks its best evaluation.
      history: [(step, eval metrics)] of every evaluation (kept when asked).
      error: why it failed (a population member whose loss stopped being finite).
    """

    workdir: str
    window: MetricWindow
    nonfinite: NonFiniteGuard
    early_stopping: EarlyStopping
    history: list = dataclasses.field(default_factory=list)
    error: str | None = None
    stopped: bool = False

    def state_dict(self) -> dict:
        return {
            "window": self.window.state_dict(),
            "early_stopping": self.early_stopping.state_dict(),
            "nonfinite": self.nonfinite.state_dict(),
            "history": [list(item) for item in self.history],
            "error": self.error,
        }

    def load_state_dict(self, state: dict) -> None:
        self.window = MetricWindow(state["window"])
        self.early_stopping.load_state_dict(state["early_stopping"])
        self.nonfinite = NonFiniteGuard(
            self.nonfinite.policy, self.nonfinite.patience, state["nonfinite"]
        )
        self.history = [(int(step), metrics) for step, metrics in state.get("history", [])]
        self.error = state.get("error")


@dataclasses.dataclass(frozen=True)
class LoopOutcome:
    """How a loop ended.

    Attributes:
      step: the last step trained.
      eval_metrics: each member's last evaluation metrics.
      stopped_early: whether early stopping ended the run.
      train_seconds: training wall time (evaluations and checkpoints excluded).
    """

    step: int
    eval_metrics: list[dict[str, float]]
    stopped_early: bool
    train_seconds: float


def _every(interval: int, at: int) -> bool:
    return interval > 0 and at % interval == 0


class LoopCore:
    """Trains a `Trainee` to `loop.num_steps`, resuming from `checkpointer`'s latest
    intact checkpoint.

    Args:
      trainee: what is trained.
      loop: the schedule.
      checkpointer: the run's checkpoints (its `best_metric` ranks them when
        `rank_checkpoints`).
      members: one `Member` per trainee member.
      preemption: the signal watcher of the run.
      workdir: the run's work directory (named in preemption messages).
      is_chief: whether this process writes logs.
      isolate_failures: a member whose loss stops being finite is marked failed and the
        others train on (populations); otherwise the run stops with the error.
      rank_checkpoints: pass evaluation metrics to checkpoint saves (single runs).
      keep_history: record every evaluation in the members' history.
      on_log, on_evaluation, on_checkpoint: called with (step, per-member values).
    """

    def __init__(
        self,
        trainee: Trainee,
        *,
        loop: LoopOptions,
        checkpointer: Checkpointer,
        members: list[Member],
        preemption: PreemptionWatcher,
        workdir: str,
        is_chief: bool,
        isolate_failures: bool = False,
        rank_checkpoints: bool = True,
        keep_history: bool = False,
        on_log: Sequence[Callable[[int, list[dict]], None]] = (),
        on_evaluation: Sequence[Callable[[int, list[dict]], None]] = (),
        on_checkpoint: Sequence[Callable[[int], None]] = (),
    ):
        if len(members) != trainee.num_members:
            raise ValueError(f"{len(members)} member records for {trainee.num_members} members.")
        self.trainee, self.loop, self.checkpointer = trainee, loop, checkpointer
        self.members, self.preemption, self.workdir = members, preemption, workdir
        self.is_chief = is_chief
        self.isolate_failures = isolate_failures
        self.rank_checkpoints = rank_checkpoints
        self.keep_history = keep_history
        self.on_log, self.on_evaluation = list(on_log), list(on_evaluation)
        self.on_checkpoint = list(on_checkpoint)
        self.train_seconds = 0.0
        self.step = 0
        self.stopped_by_time = False
        self._last_checkpoint: int | None = None

    def restore(self) -> int | None:
        """Restores the latest intact checkpoint (state, data position, bookkeeping);
        returns its step, or None when training starts afresh."""
        restored = self.checkpointer.restore_latest(
            self.trainee.abstract_state(), self.trainee.batches
        )
        if restored is None:
            return None
        step, state, loop_state = restored
        self.trainee.load_state(state)
        for member, member_state in zip(self.members, loop_state["members"], strict=True):
            member.load_state_dict(member_state)
        self.train_seconds = float(loop_state["train_seconds"])
        self.step = self._last_checkpoint = int(step)
        return int(step)

    def loop_state(self) -> dict:
        return {
            "members": [member.state_dict() for member in self.members],
            "train_seconds": self.train_seconds,
        }

    def _time_used_up(self) -> bool:
        """Whether a resumed run had already reached its time limit."""
        limit = self.loop.time_limit_minutes
        return limit is not None and self.train_seconds >= 60.0 * limit

    def _next_event(self) -> int:
        loop = self.loop
        intervals = (loop.log_every, loop.eval_every, loop.checkpoint_every)
        return min(loop.num_steps, *((self.step // n + 1) * n for n in intervals if n > 0))

    def _add_metrics(self, pending: list[tuple[int, Any]]) -> None:
        for first, metrics in pending:
            per_member = self.trainee.per_member(jax.device_get(metrics))
            for member, values in zip(self.members, per_member, strict=True):
                if member.error is not None:
                    continue
                try:
                    kept = member.nonfinite.filter(values, first, self._last_checkpoint)
                except NonFiniteLossError as e:
                    if not self.isolate_failures:
                        raise
                    member.error = f"NonFiniteLossError: {e}"
                    logging.warning("Member %s failed: %s", member.workdir, e)
                    continue
                member.window.add({f"train/{name}": v for name, v in kept.items()})
        pending.clear()

    def _log(self, writers: list[MetricWriter], progress: Progress) -> None:
        scalars = [member.window.means() if member.window.count else {} for member in self.members]
        if not any(scalars):
            return
        shown = scalars[0] if len(scalars) == 1 else _mean_over_members(scalars)
        steps_per_sec = progress.report(
            self.step, {n: v for n, v in shown.items() if n.endswith("loss")}
        )
        for member, writer, values in zip(self.members, writers, scalars, strict=True):
            if not values:
                continue
            if member.nonfinite.policy == "skip":
                values["train/skipped_steps"] = member.nonfinite.skipped_steps
            values["train/steps_per_sec"] = steps_per_sec
            writer.write_scalars(self.step, values)
            # Windows stay aligned to multiples of log_every: a run that ends (and is
            # later extended) mid-window logs the partial window but keeps summing it,
            # so the extended run logs what an uninterrupted one would.
            if _every(self.loop.log_every, self.step):
                member.window.reset()
        for hook in self.on_log:
            hook(self.step, scalars)

    def _evaluate(self, writers: list[MetricWriter], is_last: bool) -> list[dict]:
        results = self.trainee.evaluate(
            self.step, is_last=is_last, train_seconds=self.train_seconds
        )
        for member, writer, metrics in zip(self.members, writers, results, strict=True):
            writer.write_scalars(self.step, metrics)
            if self.keep_history:
                member.history.append((self.step, metrics))
            member.stopped = member.early_stopping.update(self.step, metrics)
        if len(results) == 1:
            logging.info(
                "eval at step %d: %s",
                self.step,
                " ".join(f"{n}={v:.5g}" for n, v in results[0].items()),
            )
        else:
            logging.info(
                "eval at step %d (%d members): %s",
                self.step,
                len(results),
                " ".join(f"mean {n}={v:.5g}" for n, v in _mean_over_members(results).items()),
            )
        self.trainee.after_evaluation(self.step, writers)
        return results

    def run(self) -> LoopOutcome:
        """Trains from `self.step` (0, or what `restore` returned) to the end."""
        loop = self.loop
        writers = [
            MetricWriter(member.workdir, is_chief=self.is_chief, resume_step=self.step)
            for member in self.members
        ]
        progress = Progress(self.step, loop.num_steps)
        pending: list[tuple[int, Any]] = []  # (first step, per-step metrics on device)
        results: list[dict] = [{} for _ in self.members]
        stopped_early = False
        call_start = time.perf_counter()
        # A resumed run that had used up its time trains nothing more. Within the loop the
        # time limit is checked only through `out_of_time`, so that the step that crosses
        # it is the last one, evaluated and checkpointed: `train_seconds` grows past the
        # limit a little after `out_of_time` is computed (fetching the metrics waits for
        # the asynchronously dispatched steps), and a loop condition on it would end the
        # run without its last evaluation and checkpoint.
        if self._time_used_up():
            self.stopped_by_time = True
        try:
            while self.step < loop.num_steps and not self.stopped_by_time:
                k = min(loop.steps_per_call, self._next_event() - self.step)
                pending.append((self.step, self.trainee.train(k)))
                self.step += k

                out_of_time = loop.time_limit_minutes is not None and (
                    self.train_seconds + time.perf_counter() - call_start
                    >= 60.0 * loop.time_limit_minutes
                )
                is_last = self.step == loop.num_steps or out_of_time
                do_log = _every(loop.log_every, self.step) or is_last
                do_checkpoint = _every(loop.checkpoint_every, self.step) or is_last
                do_eval = _every(loop.eval_every, self.step) or do_checkpoint
                preempted = self.preemption.should_stop() and not is_last
                if not (do_log or do_eval or preempted):
                    continue
                self._add_metrics(pending)
                self.train_seconds += time.perf_counter() - call_start
                if do_log:
                    self._log(writers, progress)
                if do_eval:
                    results = self._evaluate(writers, is_last)
                    stopped_early = all(member.stopped for member in self.members)
                if do_checkpoint or stopped_early or preempted:
                    ranking = results[0] if do_eval and self.rank_checkpoints else None
                    self.checkpointer.save(
                        self.step,
                        self.trainee.state(),
                        self.trainee.batches,
                        self.loop_state(),
                        metrics=ranking,
                    )
                    self._last_checkpoint = self.step
                    for hook in self.on_checkpoint:
                        hook(self.step)
                if preempted:
                    self.checkpointer.wait()
                    raise self.preemption.preempted(self.step, self.workdir)
                if do_eval:
                    for hook in self.on_evaluation:
                        hook(self.step, results)
                if out_of_time:
                    self.stopped_by_time = True
                    logging.info(
                        "Time limit: %.1f minutes of training reached at step %d of %d.",
                        loop.time_limit_minutes,
                        self.step,
                        loop.num_steps,
                    )
                    break
                if stopped_early:
                    tracker = self.members[0].early_stopping
                    logging.info(
                        "Early stopping at step %d: %s has not improved for %d evaluations "
                        "(best %.5g at step %s).",
                        self.step,
                        tracker.metric,
                        tracker.evals_without_improvement,
                        tracker.best,
                        tracker.best_step,
                    )
                    break
                call_start = time.perf_counter()
        finally:
            try:
                self.checkpointer.close()  # Waits for the last save; raises if it failed.
            finally:
                for writer in writers:
                    writer.close()
        return LoopOutcome(self.step, results, stopped_early, self.train_seconds)


def _mean_over_members(values: list[dict[str, float]]) -> dict[str, float]:
    names = sorted({name for v in values for name in v})
    return {name: float(np.mean([v[name] for v in values if name in v])) for name in names}
