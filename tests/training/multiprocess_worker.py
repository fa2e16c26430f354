"""One process of a small data-parallel training job (run by test_multiprocess.py).

    python tests/training/multiprocess_worker.py OUT.npz PROCESS_ID NUM_PROCESSES PORT

Joins the job through `config.distributed` (coordinator on 127.0.0.1:PORT; no job for
NUM_PROCESSES=1), trains a few fused steps of a tiny dense VAE on the embedded digits
with the global batch split across processes, and saves this process's copy of the
parameters, before and after, to OUT.npz.
"""

import importlib.util
import pathlib
import sys

import jax
import numpy as np

from aelab.data import load_split
from aelab.training.batches import make_train_batches
from aelab.training.distributed import initialize_distributed
from aelab.training.experiment import build_run_spec
from aelab.training.mesh import batch_sharding, make_data_mesh, replicated
from aelab.training.optimizers import build_optimizer
from aelab.training.seeds import data_seed
from aelab.training.state import create_train_state
from aelab.training.step import fuse_steps, make_train_step

REPO = pathlib.Path(__file__).resolve().parents[2]
NUM_CALLS, STEPS_PER_CALL = 2, 3


def tiny_config(process_id: int, num_processes: int, port: int):
    spec = importlib.util.spec_from_file_location("quickstart", REPO / "configs/quickstart.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    config = module.get_config("smoke")
    config.model.hidden_dims = (32,)
    config.model.latent_dim = 4
    config.data.batch_size = 16
    config.data.binarize = "dynamic"  # per-batch noise must be the same in every process
    if num_processes > 1:
        config.distributed.coordinator_address = f"127.0.0.1:{port}"
        config.distributed.num_processes = num_processes
        config.distributed.process_id = process_id
    return config


def main(out: str, process_id: int, num_processes: int, port: int) -> None:
    config = tiny_config(process_id, num_processes, port)
    initialize_distributed(config.distributed)
    assert jax.process_count() == num_processes
    spec = build_run_spec(config)
    mesh = make_data_mesh()
    optimizer = build_optimizer(config.optimizer, config.train.num_steps)
    graphdef, state, shardings = create_train_state(
        config.model, spec.example_shape, spec.output_shape, optimizer, seed=0, mesh=mesh
    )
    step = jax.jit(
        fuse_steps(make_train_step(graphdef, spec.objective, optimizer)),
        in_shardings=(shardings, batch_sharding(mesh, 1)),
        out_shardings=(shardings, replicated(mesh)),
    )
    source, _ = load_split(config.data, "train")
    batches = make_train_batches(
        config, spec.transform, spec.example_shape, source, mesh, seed=data_seed(config)
    )
    initial = _local_copy(state.params, "initial")
    for _ in range(NUM_CALLS):
        stacked = batches.next_stacked(STEPS_PER_CALL)
        # Each process holds only its rows of the global batch.
        assert stacked["inputs"].addressable_shards[0].data.shape[1] == 16 // num_processes
        state, _ = step(state, stacked)
    np.savez(out, **initial, **_local_copy(state.params, "final"))


def _local_copy(params, prefix: str) -> dict[str, np.ndarray]:
    """This process's copy of each (replicated) parameter, keyed by prefix and path."""
    leaves = jax.tree_util.tree_leaves_with_path(params)
    return {
        f"{prefix}{jax.tree_util.keystr(path)}": np.asarray(leaf.addressable_data(0))
        for path, leaf in leaves
    }


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
