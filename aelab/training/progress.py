"""The console progress line: step, throughput and time left."""

from __future__ import annotations

import time

from absl import logging


def format_duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


class Progress:
    """Measures steps/s between reports and prints a progress line with an ETA."""

    def __init__(self, start_step: int, num_steps: int):
        self.num_steps = num_steps
        self._last_step = start_step
        self._last_time = time.perf_counter()

    def report(self, step: int, scalars: dict[str, float]) -> float:
        """Logs one line; returns steps/s since the previous report."""
        now = time.perf_counter()
        elapsed = max(now - self._last_time, 1e-9)
        steps_per_sec = (step - self._last_step) / elapsed
        self._last_step, self._last_time = step, now
        eta = (self.num_steps - step) / steps_per_sec if steps_per_sec > 0 else float("nan")
        shown = " ".join(f"{name}={value:.4g}" for name, value in scalars.items())
        logging.info(
            "step %d/%d (%.0f%%) %s | %.1f steps/s, ETA %s",
            step,
            self.num_steps,
            100.0 * step / self.num_steps,
            shown,
            steps_per_sec,
            format_duration(eta) if eta == eta else "?",
        )
        return steps_per_sec
