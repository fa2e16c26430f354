"""What happens when training produces a NaN or an infinity.

`config.train.nonfinite` picks the policy:

- "stop" (default): the run stops with a `NonFiniteLossError` naming the step and the
  first non-finite metric. Nothing non-finite is ever checkpointed (the loop checks the
  metrics before each save), so the last good checkpoint stays and a rerun resumes from
  it, e.g. with a lower learning rate.
- "skip": inside the jitted step, an update whose loss, gradient norm or new state is
  not finite is dropped: parameters, optimizer and model state keep their old values;
  the step counter still advances (the batch is consumed, so a rerun sees the same
  data). Skipped steps are counted (`train/skipped_steps`, cumulative) and left out of
  the logged train means. `config.train.nonfinite_patience` consecutive skipped steps
  stop the run with a `NonFiniteLossError` (0: never), since a run that skips every
  update makes no progress.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from aelab.core.options import Options, option, options_class

NONFINITE_POLICIES = ("stop", "skip")


@options_class
class NonFiniteOptions(Options):
    """`config.train` options of what a NaN or infinite loss does."""

    nonfinite: str = option(
        "stop",
        "'stop' with an error naming the step, or 'skip' the update (counted)",
        choices=NONFINITE_POLICIES,
    )
    nonfinite_patience: int = option(
        100, "'skip': stop after this many skipped updates in a row (0: never)", minimum=0
    )


# The step metrics whose finiteness the "skip" policy checks (with the new state).
WATCHED_METRICS = ("loss", "grad_norm", "discriminator_loss", "discriminator_grad_norm")
SKIPPED = "skipped"  # per-step metric of the "skip" policy: 1.0 when the update was dropped


class NonFiniteLossError(FloatingPointError):
    """Training produced a NaN or infinite metric; the last good checkpoint is kept."""


def _all_finite(tree) -> jax.Array:
    leaves = [x for x in jax.tree.leaves(tree) if jnp.issubdtype(jnp.asarray(x).dtype, jnp.inexact)]
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves])) if leaves else True


def skip_nonfinite_updates(train_step: Callable) -> Callable:
    """Wraps `train_step(state, batch) -> (state, metrics)` so that a non-finite update
    is dropped.

    The update is kept when the loss, the gradient norm (and a discriminator's loss and
    gradient norm) and every floating-point leaf of the new state (parameters, optimizer
    state, model state, a discriminator's) are finite; otherwise the
    returned state is the old one with `step` advanced by one. Adds the scalar metric
    "skipped" (1.0 for a dropped update, else 0.0). Pure and jittable; composes with
    `fuse_steps`.
    """

    def guarded_step(state, batch):
        new_state, metrics = train_step(state, batch)
        watched = [metrics[name] for name in WATCHED_METRICS if name in metrics]
        # Every floating-point leaf of the new state: parameters, optimizer and model
        # state, and a discriminator's (adversarial objectives) when there is one.
        ok = jnp.logical_and(_all_finite(watched), _all_finite(new_state))
        kept = jax.tree.map(lambda new, old: jnp.where(ok, new, old), new_state, state)
        kept = kept.replace(step=new_state.step)
        return kept, dict(metrics, **{SKIPPED: jnp.where(ok, 0.0, 1.0).astype(jnp.float32)})

    return guarded_step


def _first_nonfinite(per_step: dict[str, np.ndarray], offset: int) -> list[str]:
    bad = [name for name, v in per_step.items() if not math.isfinite(float(v[offset]))]
    # The loss first: it is what the user watches; the rest follow in name order.
    return sorted(bad, key=lambda name: (not name.endswith("loss"), name))


def _kept_message(checkpoint_step: int | None) -> str:
    if checkpoint_step is None:
        return "no checkpoint had been written yet"
    return f"the last good checkpoint (step {checkpoint_step}) is kept"


class NonFiniteGuard:
    """Applies the non-finite policy to per-step metrics on the host.

    The loop passes each fused call's metrics ({name: [k]}) through `filter`, which
    raises under "stop", and under "skip" returns the metrics of the kept steps only.
    Its state (skip counts) goes into checkpoints.
    """

    def __init__(self, policy: str = "stop", patience: int = 0, state: dict | None = None):
        self.policy = policy
        self.patience = patience
        state = state or {}
        self.skipped_steps = int(state.get("skipped_steps", 0))
        self.skipped_in_a_row = int(state.get("skipped_in_a_row", 0))

    def filter(
        self, per_step: dict[str, np.ndarray], first_step: int, checkpoint_step: int | None
    ) -> dict[str, np.ndarray]:
        """Checks steps `first_step + 1 ...`; returns the metrics of the kept steps."""
        if self.policy == "stop":
            self._stop_at_first_nonfinite(per_step, first_step, checkpoint_step)
            return per_step
        skipped = np.asarray(per_step.pop(SKIPPED)) > 0
        for offset, was_skipped in enumerate(skipped):
            if not was_skipped:
                self.skipped_in_a_row = 0
                continue
            self.skipped_steps += 1
            self.skipped_in_a_row += 1
            if 0 < self.patience <= self.skipped_in_a_row:
                step = first_step + offset + 1
                raise NonFiniteLossError(
                    f"Training skipped {self.skipped_in_a_row} updates in a row up to step "
                    f"{step} (config.train.nonfinite='skip', nonfinite_patience="
                    f"{self.patience}): every update was NaN or infinite; "
                    f"{_kept_message(checkpoint_step)}. Lower "
                    "config.optimizer.learning_rate, set config.optimizer.grad_clip_norm, or "
                    "check the data for NaNs, then rerun."
                )
        return {name: np.asarray(v)[~skipped] for name, v in per_step.items()}

    def _stop_at_first_nonfinite(
        self, per_step: dict[str, np.ndarray], first_step: int, checkpoint_step: int | None
    ) -> None:
        num_steps = len(next(iter(per_step.values())))
        for offset in range(num_steps):
            bad = _first_nonfinite(per_step, offset)
            if not bad:
                continue
            step = first_step + offset + 1
            first, *rest = bad
            also = f" (also {', '.join(rest)})" if rest else ""
            raise NonFiniteLossError(
                f"Training diverged at step {step}: {first}={float(per_step[first][offset])} is "
                f"the first non-finite metric{also}; {_kept_message(checkpoint_step)}. Lower "
                "config.optimizer.learning_rate, set config.optimizer.grad_clip_norm, or set "
                "config.train.nonfinite='skip' to drop such updates, then rerun (the run "
                "resumes from the last checkpoint)."
            )

    def state_dict(self) -> dict:
        return {"skipped_steps": self.skipped_steps, "skipped_in_a_row": self.skipped_in_a_row}
