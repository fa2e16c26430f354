"""Stopping cleanly on SIGTERM / SIGINT: checkpoint at the next step boundary, then exit.

Clusters announce preemption with SIGTERM (SLURM, Kubernetes, Cloud TPU maintenance);
a user stops a run with Ctrl-C (SIGINT). Either way the loop should not lose the work
since the last periodic checkpoint. `PreemptionWatcher` turns the signal into a flag
that the loop reads after each (fused) train call; the loop then saves a checkpoint,
waits for it to be on disk and raises `TrainingPreempted`. A second SIGINT while the
first is being handled interrupts at once (KeyboardInterrupt), for a user in a hurry.

Multi-process jobs: `jax.distributed.initialize` starts JAX's preemption service, which
owns SIGTERM and agrees on one step at which every process saves
(`multihost_utils.reached_preemption_sync_point`); the watcher then asks it rather than
installing handlers of its own, because all processes must save the same step.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

import jax
from absl import logging
from jax.experimental import multihost_utils

HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class TrainingPreempted(KeyboardInterrupt):
    """The run stopped on a signal after saving a checkpoint; rerun it to resume.

    A KeyboardInterrupt, like the Ctrl-C it often comes from: not an error, and not
    caught by `except Exception` on its way up (a sweep worker gives the trial back).

    Attributes:
      step: the step of the checkpoint written before stopping.
      signal_name: "SIGTERM", "SIGINT", or "preemption notice" (multi-process).
      signal_number: the signal's number (SIGTERM's for a multi-process notice).
    """

    def __init__(self, step: int, signal_name: str, signal_number: int, workdir: str):
        self.step = step
        self.signal_name = signal_name
        self.signal_number = signal_number
        self.workdir = workdir
        super().__init__(
            f"Stopped by {signal_name} at step {step}, after saving a checkpoint there "
            f"({workdir}/checkpoints/{step}). To resume, rerun the same command with the "
            f"same workdir: training continues from step {step}."
        )


class PreemptionWatcher:
    """A context manager that records SIGTERM / SIGINT while training runs.

    Outside it, the previous handlers are back. Signal handlers can only be set from the
    main thread: elsewhere (a sweep running trials in threads) it watches nothing.
    """

    def __init__(self):
        self._signal: int | None = None
        self._previous: dict[int, object] = {}
        self._calls = 0
        self._multi_process = False
        self._acted = False

    def __enter__(self) -> PreemptionWatcher:
        self._multi_process = jax.process_count() > 1
        if self._multi_process or threading.current_thread() is not threading.main_thread():
            return self
        for signum in HANDLED_SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        watched = bool(self._previous)
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()
        if watched and exc_type is None and self._signal is not None and not self._acted:
            # The signal came after the last step's check (during the final evaluation or
            # checkpoint) and the run finished: pass it on to the handler it was meant
            # for, so that a sweep worker or a script asked to stop does stop rather
            # than start its next piece of work.
            logging.warning(
                "The run finished before %s could stop it; passing the signal on.",
                signal.Signals(self._signal).name,
            )
            signal.raise_signal(self._signal)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        del frame
        if self._signal is not None and signum == signal.SIGINT:
            self._acted = True
            raise KeyboardInterrupt
        self._signal = signum
        logging.warning(
            "Received %s: saving a checkpoint at the next step boundary, then stopping "
            "(press Ctrl-C again to stop at once, without saving).",
            signal.Signals(signum).name,
        )

    def should_stop(self) -> bool:
        """Whether to checkpoint and stop now. Call once after every train call, on every
        process (in a multi-process job it is a collective agreement)."""
        if not self._multi_process:
            return self._signal is not None
        self._calls += 1
        try:
            reached = multihost_utils.reached_preemption_sync_point(self._calls)
        except RuntimeError as e:  # jax_enable_preemption_service was turned off.
            logging.warning("Not watching for preemption notices: %s", e)
            self._multi_process = False
            return False
        if reached:
            self._signal = signal.SIGTERM
        return reached

    def preempted(self, step: int, workdir: str) -> TrainingPreempted:
        """The exception to raise once the checkpoint of `step` is on disk."""
        self._acted = True
        signum = self._signal if self._signal is not None else signal.SIGTERM
        name = "preemption notice" if self._multi_process else signal.Signals(signum).name
        return TrainingPreempted(step, name, int(signum), workdir)
