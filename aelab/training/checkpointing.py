"""Checkpoints of a run: train state, data-iterator position and loop bookkeeping.

One orbax `CheckpointManager` under `workdir/checkpoints/`, one step directory per
checkpoint with three items:

- "state": the `TrainState` (parameters, optimizer state, rng, step);
- "data_iter": the grain iterator's position (one small JSON per process);
- "loop": JSON bookkeeping: partially accumulated train metrics, early-stopping state;
- "integrity": checksums of the state and the loop item (`checkpoint_integrity`).

Crash safety (see docs/reliability.md): orbax writes each step into a temporary
directory and renames it when complete, so a crash mid-write leaves the previous
checkpoints intact; temporary directories left by a killed run are deleted when the
next run opens the directory (the work directory lock guarantees no other run is
writing them). Old checkpoints are deleted only after the new one is committed (orbax
finalizes the new step, then applies the retention policy). `restore_latest` verifies
the checksums and falls back to older checkpoints when the newest is damaged. Kept: the
last `keep` checkpoints plus the best one by an evaluation metric.
"""

from __future__ import annotations

import datetime
import gc
import os
import shutil
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp
from absl import logging
from jax.experimental import multihost_utils

from aelab.core.options import Options, option, options_class
from aelab.training import checkpoint_integrity
from aelab.training.batches import TrainBatches
from aelab.training.early_stopping import MODES
from aelab.training.weight_files import GROUPS, flatten_weights

_policies = ocp.checkpoint_managers


@options_class
class CheckpointOptions(Options):
    """`config.train` options of which checkpoints are kept."""

    keep_checkpoints: int = option(2, "the most recent checkpoints kept (plus the best)", minimum=1)
    best_metric: str = option(
        "eval/loss",
        "the evaluation metric that ranks checkpoints and drives early stopping",
        pattern=r"evals?/\S+",
        pattern_doc="an evaluation metric such as 'eval/loss' or 'evals/likelihood/nll'",
    )
    best_mode: str = option(
        "min", "whether the best value of best_metric is the min or max", choices=MODES
    )


class Checkpointer:
    """Saves and restores a run's checkpoints.

    Args:
      directory: where step directories go (`workdir/checkpoints`).
      keep: how many of the most recent checkpoints to keep.
      best_metric: evaluation metric that ranks checkpoints (e.g. "eval/loss"); the best
        is kept in addition to the last `keep`. Every save must then pass `metrics`.
      best_mode: "min" or "max".
      async_save: write in a background thread while training continues.
      read_only: only read (another run's checkpoints): nothing is created, saved,
        deleted or cleaned up.
    """

    def __init__(
        self,
        directory: str,
        *,
        keep: int = 2,
        best_metric: str | None = None,
        best_mode: str = "min",
        async_save: bool = True,
        read_only: bool = False,
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
            create=not read_only,
            cleanup_tmp_directories=not read_only,
            read_only=read_only,
            save_interval_steps=0 if read_only else 1,
        )
        self._manager = ocp.CheckpointManager(
            self.directory,
            options=options,
            item_names=("state", "data_iter", "loop", "integrity"),
        )

    def latest_step(self) -> int | None:
        """The step of the newest saved checkpoint, or None when there is none."""
        return self._manager.latest_step()

    def best_step(self) -> int | None:
        """The step of the checkpoint with the best tracked metric, or None."""
        return self._manager.best_step()

    def all_steps(self) -> list[int]:
        """The steps of every kept checkpoint."""
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
            integrity=ocp.args.JsonSave(checkpoint_integrity.integrity_record(state, loop_state)),
        )
        metrics = None if metrics is None else {k: float(v) for k, v in metrics.items()}
        self._manager.save(step, args=args, metrics=metrics, force=True)

    def restore(self, step: int, abstract_state: Any, batches: TrainBatches) -> tuple[Any, dict]:
        """Restores step `step` into `abstract_state`'s shapes and shardings and moves
        `batches` to the saved position. Returns (state, loop_state).

        Raises:
          CorruptCheckpointError: the restored values do not match their checksums.
        """
        restored = self._manager.restore(
            step,
            args=ocp.args.Composite(
                state=ocp.args.StandardRestore(abstract_state),
                data_iter=batches.restore_arg(),
                loop=ocp.args.JsonRestore(),
                integrity=ocp.args.JsonRestore(),
            ),
        )
        checkpoint_integrity.verify(
            restored["integrity"], restored["state"], restored["loop"], where=self.step_dir(step)
        )
        return restored["state"], restored["loop"]

    def restore_latest(
        self, abstract_state: Any, batches: TrainBatches
    ) -> tuple[int, Any, dict] | None:
        """Restores the newest checkpoint that is intact; None when there is none.

        A checkpoint that fails to restore or to verify is reported with a warning
        naming it, and the previous one is tried. Once an intact one is found, the
        damaged newer ones are moved to `<workdir>/corrupt_checkpoints/` (kept for
        inspection, out of the way of new saves). If none restores, nothing is moved.

        Returns:
          (step, state, loop_state) of the restored checkpoint, or None.

        Raises:
          CorruptCheckpointError: checkpoints exist but none of them can be restored
            (damaged, or written by an incompatible config); the message lists why.
        """
        failures: dict[int, str] = {}
        for step in sorted(self.all_steps(), reverse=True):
            try:
                state, loop_state = self.restore(step, abstract_state, batches)
            except Exception as e:  # orbax and tensorstore raise many types.
                reason = f"{type(e).__name__}: {str(e).strip()}".splitlines()[0]
                failures[step] = reason
                logging.warning(
                    "Checkpoint %s is damaged or unreadable (%s); falling back to the one "
                    "before it.",
                    self.step_dir(step),
                    reason,
                )
            else:
                if failures:
                    self._move_aside(sorted(failures))
                return step, state, loop_state
            # When one array fails to read, orbax abandons the reads of the others; their
            # errors are reported ("Exception ignored in <coroutine>") when the garbage
            # collector finds them: collect now, next to the warning, not at random later.
            gc.collect()
        if failures:
            listing = "; ".join(f"{self.step_dir(s)}: {r}" for s, r in failures.items())
            raise checkpoint_integrity.CorruptCheckpointError(
                f"No checkpoint in {self.directory} can be restored: {listing}. If the config "
                "changed the model, use a new work directory; otherwise move the damaged "
                "checkpoints away to start this run over."
            )
        return None

    def _move_aside(self, steps: list[int]) -> None:
        """Moves damaged step directories out of orbax's sight, keeping their files."""
        quarantine = os.path.join(os.path.dirname(self.directory), "corrupt_checkpoints")
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        if jax.process_index() == 0:
            os.makedirs(quarantine, exist_ok=True)
            for step in steps:
                target = os.path.join(quarantine, f"{step}-{stamp}")
                shutil.move(self.step_dir(step), target)
                logging.warning(
                    "Moved the damaged checkpoint %s to %s.", self.step_dir(step), target
                )
        if jax.process_count() > 1:
            multihost_utils.sync_global_devices("aelab_checkpoints_moved_aside")
        self._manager.reload()

    def step_dir(self, step: int) -> str:
        """The directory of step `step`'s checkpoint."""
        return os.path.join(self.directory, str(step))

    def restore_state(self, step: int, abstract_state: Any) -> Any:
        """Restores only the train state of step `step` (for evaluation), verified
        against its checksums.

        Raises:
          CorruptCheckpointError: the restored values do not match their checksums.
        """
        restored = self._manager.restore(
            step,
            args=ocp.args.Composite(
                state=ocp.args.StandardRestore(abstract_state), integrity=ocp.args.JsonRestore()
            ),
        )
        checkpoint_integrity.verify(
            restored["integrity"], restored["state"], None, where=self.step_dir(step)
        )
        return restored["state"]

    def restore_weights(self, step: int) -> dict[str, np.ndarray]:
        """The model's weights at step `step`, without the optimizer state, verified
        against the checkpoint's checksums.

        Returns:
          {"params/<path>": array, "model_state/<path>": array} (host NumPy arrays, the
          names of `weight_files.flatten_weights`).

        Raises:
          CorruptCheckpointError: the restored values do not match their checksums.
        """
        path = os.path.join(self.step_dir(step), "state")
        saved = ocp.StandardCheckpointer().metadata(path).item_metadata.tree
        device = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])
        target = {
            group: jax.tree.map(
                lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=device), saved[group]
            )
            for group in GROUPS
        }
        with ocp.PyTreeCheckpointer() as reader:
            restored = reader.restore(
                path,
                args=ocp.args.PyTreeRestore(
                    item=target,
                    restore_args=ocp.checkpoint_utils.construct_restore_args(target),
                    partial_restore=True,
                ),
            )
        record = self._manager.restore(
            step, args=ocp.args.Composite(integrity=ocp.args.JsonRestore())
        )["integrity"]
        flat = flatten_weights(restored["params"], restored["model_state"])
        checkpoint_integrity.verify_weights(record, flat, where=self.step_dir(step))
        return flat

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
        """Waits for pending asynchronous saves, then releases the manager."""
        self._manager.wait_until_finished()
        self._manager.close()


def abstract_with_shardings(state: Any, shardings: Any) -> Any:
    """ShapeDtypeStructs carrying shardings, describing where restored arrays go."""
    return jax.tree.map(
        lambda x, s: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=s), state, shardings
    )
