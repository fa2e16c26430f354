"""What a checkpoint holds: the data iterator position restores the very next batch."""

import os

import numpy as np
import pytest

from aelab.data import load_split
from aelab.data.pipeline import ProcessSlice, train_dataset
from aelab.evaluation import train_and_evaluate
from aelab.training import Checkpointer
from aelab.training.batches import HostBatches
from aelab.training.experiment import build_run_spec
from aelab.training.mesh import make_data_mesh


def test_checkpoint_has_state_data_iterator_and_loop_items(tmp_path, tiny_config):
    workdir = str(tmp_path / "run")
    train_and_evaluate(tiny_config, workdir)
    step_dir = os.path.join(workdir, "checkpoints", "8")
    assert {"state", "data_iter", "loop"} <= set(os.listdir(step_dir))


# A save and a restore (6 s): slow tier; the exact-resume test keeps the iterator's
# position in the README tier.
@pytest.mark.slow
def test_restored_iterator_yields_the_batch_after_the_checkpoint(tmp_path, tiny_config):
    workdir = str(tmp_path / "run")
    train_and_evaluate(tiny_config, workdir)  # 8 steps of batch 16

    spec = build_run_spec(tiny_config)
    source, _ = load_split(tiny_config.data, "train")

    def fresh_iterator():
        return iter(train_dataset(source, spec.transform, ProcessSlice(16), seed=tiny_config.seed))

    reference = fresh_iterator()
    for _ in range(8):
        next(reference)
    expected = next(reference)

    restored = HostBatches(
        train_dataset(source, spec.transform, ProcessSlice(16), seed=tiny_config.seed),
        make_data_mesh(1),
    )
    checkpointer = Checkpointer(os.path.join(workdir, "checkpoints"))
    checkpointer.restore_batches(8, restored)
    checkpointer.close()
    np.testing.assert_array_equal(next(restored.iterator)["inputs"], expected["inputs"])
