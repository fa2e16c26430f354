"""Checkpoints of a run: train state, data-iterator position and loop bookkeeping.

One orbax `CheckpointManager` under `workdir/checkpoints/`, one step directory per
checkpoint with three items:

- "state": the `TrainState` (parameters, optimizer state, rng, step);
- "data_iter": the grain iterator's position (one small JSON per process);
- "loop": JSON bookkeeping: partially accumulated train metrics, early-stopping state.

Orbax writes each step to a temporary directory and renames it when complete, so a
crash mid-write leaves the previous checkpoints intact. Kept: the last `keep`
checkpoints plus the best one by an evaluation metric.
"""

from __future__ import annotations

import os
from typing import Any

import jax
import orbax.checkpoint as ocp

from aelab.training.batches import TrainBatches

_policies = ocp.checkpoint_managers


class Checkpointer:
    """Saves and restores a run's checkpoints.

    Args:
      directory: where step directories go (`workdir/checkpoints`).
      keep: how many of the most recent checkpoints to keep.
      best_metric: evaluation metric that ranks checkpoints (e.g. "eval/loss"); the best
        is kept in addition to the last `keep`. Every save must then pass `metrics`.
      best_mode: "min" or "max".
      async_save: write in a background thread while training continues.
    """

    def __init__(
        self,
        directory: str,
        *,
        keep: int = 2,
        best_metric: str | None = None,
        best_mode: str = "min",
        async_save: bool = True,
    ):
        self.directory = os.path.abspath(directory)
        self.best_metric = best_metric
        policies = [_policies.LatestN(keep)]
        best_fn = None
        if best_metric is not None:
            best_fn = lambda metrics: metrics[best_metric]
            policies.append(
                _policies.BestN(
                    get_metric_fn=best_fn,
                    reverse=best_mode == "min",
                    n=1,
                    keep_checkpoints_without_metrics=False,
                )
            )
        options = ocp.CheckpointManagerOptions(
            best_fn=best_fn,
            best_mode=best_mode,
            preservation_policy=_policies.AnyPreservationPolicy(policies),
            enable_async_checkpointing=async_save,
            create=True,
        )
        self._manager = ocp.CheckpointManager(
            self.directory, options=options, item_names=("state", "data_iter", "loop")
        )

    def latest_step(self) -> int | None:
        return self._manager.latest_step()

    def best_step(self) -> int | None:
        return self._manager.best_step()

    def all_steps(self) -> list[int]:
        return list(self._manager.all_steps())

    def save(
        self,
        step: int,
        state: Any,
        batches: TrainBatches,
        loop_state: dict,
        metrics: dict[str, float] | None = None,
    ) -> None:
        """Saves step `step` (asynchronously unless disabled): the train state, the
        position of `batches` and `loop_state`; `metrics` rank it for best-keeping."""
        args = ocp.args.Composite(
            state=ocp.args.StandardSave(state),
            data_iter=batches.save_arg(),
            loop=ocp.args.JsonSave(loop_state),
        )
        metrics = None if metrics is None else {k: float(v) for k, v in metrics.items()}
        self._manager.save(step, args=args, metrics=metrics, force=True)

    def restore(self, step: int, abstract_state: Any, batches: TrainBatches) -> tuple[Any, dict]:
        """Restores step `step` into `abstract_state`'s shapes and shardings and moves
        `batches` to the saved position. Returns (state, loop_state)."""
        restored = self._manager.restore(
            step,
            args=ocp.args.Composite(
                state=ocp.args.StandardRestore(abstract_state),
                data_iter=batches.restore_arg(),
                loop=ocp.args.JsonRestore(),
            ),
        )
        return restored["state"], restored["loop"]

    def restore_state(self, step: int, abstract_state: Any) -> Any:
        """Restores only the train state of step `step` (for evaluation)."""
        restored = self._manager.restore(
            step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract_state))
        )
        return restored["state"]

    def restore_loop_state(self, step: int) -> dict:
        """The loop bookkeeping saved at step `step` (e.g. its "train_seconds")."""
        restored = self._manager.restore(step, args=ocp.args.Composite(loop=ocp.args.JsonRestore()))
        return restored["loop"]

    def restore_batches(self, step: int, batches: TrainBatches) -> None:
        """Moves `batches` to the position saved at step `step`."""
        self._manager.restore(step, args=ocp.args.Composite(data_iter=batches.restore_arg()))

    def wait(self) -> None:
        """Blocks until pending asynchronous saves are on disk."""
        self._manager.wait_until_finished()

    def close(self) -> None:
        self._manager.wait_until_finished()
        self._manager.close()


def abstract_with_shardings(state: Any, shardings: Any) -> Any:
    """ShapeDtypeStructs carrying shardings, describing where restored arrays go."""
    return jax.tree.map(
        lambda x, s: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=s), state, shardings
    )
