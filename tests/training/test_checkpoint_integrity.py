"""Damaged checkpoints are detected, reported and skipped; the last good one is never lost."""

import errno
import functools
import glob
import logging
import os
import pathlib
import sys

import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp
import pytest

from aelab.evaluation import train_and_evaluate
from aelab.training import CorruptCheckpointError
from aelab.training.checkpoint_integrity import state_fingerprint
from aelab.training.checkpointing import Checkpointer
from tests.training.run_outputs import assert_same_run


class JsonPosition:
    """A batch source whose position is a JSON item (the TrainBatches protocol)."""

    def __init__(self, position: int = 0):
        self.position = position

    def save_arg(self):
        return ocp.args.JsonSave({"position": self.position})

    def restore_arg(self):
        return ocp.args.JsonRestore()


def _state(step: int) -> dict:
    # Random values do not compress: orbax stores them as raw bytes (16 KiB, out of line).
    w = jax.random.normal(jax.random.PRNGKey(step), (64, 64))
    return {
        "params": {"w": w, "b": jnp.ones(8) * step},
        "step": jnp.int32(step),
        "rng": jax.random.PRNGKey(step),
    }


def _abstract(state):
    return jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype), state)


def _two_checkpoints(directory: str) -> None:
    checkpointer = Checkpointer(directory, keep=2, best_metric=None)
    for step in (1, 2):
        checkpointer.save(step, _state(step), JsonPosition(step), {"window": step})
    checkpointer.close()


def _largest_file(pattern: str) -> str:
    return max(glob.glob(pattern, recursive=True), key=os.path.getsize)


def _garble(path: str) -> None:
    data = bytearray(pathlib.Path(path).read_bytes())
    middle = len(data) // 2
    data[middle : middle + 8] = bytes(b ^ 0x5A for b in data[middle : middle + 8])
    pathlib.Path(path).write_bytes(bytes(data))


def _truncate(path: str) -> None:
    data = pathlib.Path(path).read_bytes()
    pathlib.Path(path).write_bytes(data[: len(data) // 2])


def _write(path: str, text: str) -> None:
    pathlib.Path(path).write_text(text)


DAMAGE = {
    "garbled array bytes": lambda step_dir: _garble(
        _largest_file(f"{step_dir}/state/ocdbt.process_0/d/*")
    ),
    "truncated array file": lambda step_dir: _truncate(
        _largest_file(f"{step_dir}/state/ocdbt.process_0/d/*")
    ),
    "truncated state manifest": lambda step_dir: _truncate(f"{step_dir}/state/manifest.ocdbt"),
    "empty loop item": lambda step_dir: _write(f"{step_dir}/loop/metadata", ""),
    "garbled loop item": lambda step_dir: _write(f"{step_dir}/loop/metadata", '{"window": 7}'),
    "missing integrity item": lambda step_dir: os.remove(f"{step_dir}/integrity/metadata"),
}


def test_fingerprint_sees_a_one_bit_change_in_any_leaf():
    state = {
        "f32": jnp.linspace(0, 1, 100),
        "bf16": jnp.ones(7, jnp.bfloat16),
        "i32": jnp.arange(5),
        "mask": jnp.array([True, False]),
        "key": jax.random.PRNGKey(3),
    }
    reference = state_fingerprint(state)
    assert reference == state_fingerprint(jax.tree.map(jnp.copy, state))
    for name, leaf in state.items():
        bits = jax.lax.bitcast_convert_type(leaf, jnp.uint8) if leaf.dtype != jnp.bool_ else leaf
        flipped = bits.reshape(-1).at[-1].set(~bits.reshape(-1)[-1]).reshape(bits.shape)
        if leaf.dtype != jnp.bool_:
            flipped = jax.lax.bitcast_convert_type(flipped, leaf.dtype)
        changed = state_fingerprint({**state, name: flipped})
        assert [k for k in reference if reference[k] != changed[k]] == [f"['{name}']"]


# When one array of a damaged checkpoint fails to read, orbax abandons the reads of the
# others; their errors surface later as "Exception ignored in <coroutine ...>" (unraisable
# exceptions), which is expected here and harmless.
TOLERATE_ABANDONED_READS = pytest.mark.filterwarnings(
    "ignore::pytest.PytestUnraisableExceptionWarning"
)


@TOLERATE_ABANDONED_READS
@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_latest_checkpoint_falls_back_to_the_previous_one(tmp_path, damage, caplog):
    directory = str(tmp_path / "checkpoints")
    _two_checkpoints(directory)
    DAMAGE[damage](os.path.join(directory, "2"))

    checkpointer = Checkpointer(directory, keep=2, best_metric=None)
    step, state, loop_state = checkpointer.restore_latest(_abstract(_state(1)), JsonPosition())
    checkpointer.close()

    assert (step, loop_state) == (1, {"window": 1})
    jax.tree.map(np.testing.assert_array_equal, state, _state(1))
    assert f"Checkpoint {directory}/2 is damaged or unreadable" in caplog.text
    assert os.listdir(directory) == ["1"]  # Step 2 is out of the way of the next save ...
    moved = os.listdir(tmp_path / "corrupt_checkpoints")  # ... and kept for inspection.
    assert len(moved) == 1 and moved[0].startswith("2-")


def test_garbled_array_bytes_are_caught_by_the_checksums(tmp_path):
    """Orbax restores flipped bytes inside a stored array without complaint (orbax-checkpoint
    0.12.8, uncompressible data); the checksums saved with the checkpoint catch them."""
    directory = str(tmp_path / "checkpoints")
    _two_checkpoints(directory)
    DAMAGE["garbled array bytes"](os.path.join(directory, "2"))
    checkpointer = Checkpointer(directory, keep=2, best_metric=None)
    with pytest.raises(CorruptCheckpointError, match=r"checkpoints/2: the restored train state"):
        checkpointer.restore(2, _abstract(_state(1)), JsonPosition())
    checkpointer.close()


@TOLERATE_ABANDONED_READS
def test_when_no_checkpoint_restores_nothing_is_moved(tmp_path):
    directory = str(tmp_path / "checkpoints")
    _two_checkpoints(directory)
    for step in ("1", "2"):
        DAMAGE["garbled array bytes"](os.path.join(directory, step))
    checkpointer = Checkpointer(directory, keep=2, best_metric=None)
    with pytest.raises(CorruptCheckpointError, match=r"No checkpoint .* can be restored: .*/2: "):
        checkpointer.restore_latest(_abstract(_state(1)), JsonPosition())
    checkpointer.close()
    assert sorted(os.listdir(directory)) == ["1", "2"]


def test_old_checkpoints_are_deleted_only_after_the_new_one_is_committed(tmp_path):
    directory = str(tmp_path / "checkpoints")
    checkpointer = Checkpointer(directory, keep=1, best_metric=None)  # async saves
    deleter = checkpointer._manager._checkpoint_deleter  # orbax's retention step
    seen = []
    delete_steps = deleter.delete_steps

    def recording_delete_steps(steps):
        seen.append((list(steps), sorted(os.listdir(directory))))
        return delete_steps(steps)

    deleter.delete_steps = recording_delete_steps
    for step in (1, 2, 3):
        checkpointer.save(step, _state(step), JsonPosition(step), {})
    checkpointer.close()
    # When step k-1 is deleted, step k is already committed under its final name.
    assert seen == [([], ["1"]), ([1], ["1", "2"]), ([2], ["2", "3"])]


@pytest.mark.slow  # two runs around a failed write (12 s)
def test_a_failed_checkpoint_write_keeps_the_last_good_one(
    tmp_path, tiny_config, monkeypatch, caplog
):
    """Disk full while committing step 8 (simulated in orbax's last write before the
    rename): the run fails with the disk error, step 4 stays, and a rerun resumes there."""
    from orbax.checkpoint._src.path import async_path

    write_text = async_path.write_text

    async def disk_full_at_step_8(path, text):
        if os.path.basename(os.path.dirname(str(path))).startswith("8.orbax-checkpoint-tmp"):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return await write_text(path, text)

    monkeypatch.setattr(async_path, "write_text", disk_full_at_step_8)
    tiny_config.train.keep_checkpoints = 1
    workdir = str(tmp_path / "run")
    with pytest.raises(OSError, match="No space left on device"):
        train_and_evaluate(tiny_config, workdir)
    names = os.listdir(os.path.join(workdir, "checkpoints"))
    assert "4" in names and "8" not in names, names

    monkeypatch.setattr(async_path, "write_text", write_text)
    caplog.set_level(logging.INFO)
    train_and_evaluate(tiny_config, workdir)
    assert "Resuming from the checkpoint at step 4" in caplog.text
    assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == ["8"]


def test_temporary_directories_of_a_killed_save_are_ignored_and_removed(tmp_path):
    directory = str(tmp_path / "checkpoints")
    _two_checkpoints(directory)
    left_over = os.path.join(directory, "3.orbax-checkpoint-tmp-1234567")
    os.makedirs(os.path.join(left_over, "state"))
    pathlib.Path(left_over, "state", "half-written").write_bytes(b"\0" * 10)
    checkpointer = Checkpointer(directory, keep=2, best_metric=None)
    step, _, _ = checkpointer.restore_latest(_abstract(_state(1)), JsonPosition())
    checkpointer.close()
    assert step == 2
    assert sorted(os.listdir(directory)) == ["1", "2"]


class PickleAudit:
    """Records every class an unpickler resolves (the `pickle.find_class` audit event),
    which is what lets loading a pickle run code. Audit hooks cannot be removed, so one
    instance serves the whole session (`pickle_audit()`), recording only inside `with`."""

    def __init__(self):
        self.events = []
        self.active = False
        sys.addaudithook(self._record)

    def _record(self, event, args):
        if self.active and event == "pickle.find_class":
            self.events.append(args)

    def __enter__(self):
        self.events, self.active = [], True
        return self

    def __exit__(self, *exc_info):
        self.active = False


@functools.cache
def pickle_audit() -> PickleAudit:
    return PickleAudit()


@pytest.mark.slow
def test_garbled_checkpoint_of_a_run_resumes_from_the_previous_one(
    tmp_path, tiny_config, caplog, monkeypatch
):
    """End to end: the run warns, resumes from step 4 and ends as an uninterrupted run does;
    restoring the checkpoints (train state, data position, loop state) unpickles nothing."""
    caplog.set_level(logging.INFO)
    reference = str(tmp_path / "reference")
    interrupted = str(tmp_path / "interrupted")
    tiny_config.train.num_steps = 12
    train_and_evaluate(tiny_config, reference)

    first = tiny_config.copy_and_resolve_references()
    first.train.num_steps = 8
    train_and_evaluate(first, interrupted)  # checkpoints 4 and 8
    DAMAGE["garbled array bytes"](os.path.join(interrupted, "checkpoints", "8"))
    audit = pickle_audit()
    restore_latest = Checkpointer.restore_latest

    def audited_restore_latest(self, *args, **kwargs):
        with audit:
            return restore_latest(self, *args, **kwargs)

    monkeypatch.setattr(Checkpointer, "restore_latest", audited_restore_latest)
    train_and_evaluate(tiny_config, interrupted)

    assert "checkpoints/8 is damaged or unreadable" in caplog.text
    assert "Resuming from the checkpoint at step 4" in caplog.text
    assert audit.events == []
    assert_same_run(reference, interrupted, after_step=4)
