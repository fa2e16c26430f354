"""The device-resident batch source gives the grain pipeline's batches, and resumes."""

import os

import jax
import numpy as np
import orbax.checkpoint as ocp
import pytest

from aelab.data import load_split
from aelab.data.pipeline import ProcessSlice, train_dataset
from aelab.evaluation import train_and_evaluate
from aelab.training.batches import DeviceBatches, HostBatches, make_train_batches
from aelab.training.experiment import build_run_spec
from aelab.training.mesh import make_data_mesh


def _sources(config, num_devices):
    spec = build_run_spec(config)
    source, _ = load_split(config.data, "train")
    mesh = make_data_mesh(num_devices)
    labels = config.data.get("train_labels")
    batch = config.data.batch_size
    host = HostBatches(
        train_dataset(source, spec.transform, ProcessSlice(batch), seed=3, labels=labels), mesh
    )
    device = DeviceBatches(
        source, spec.transform, mesh, global_batch_size=batch, seed=3, labels=labels
    )
    return host, device


@pytest.mark.parametrize("num_devices", [1, 8])
@pytest.mark.parametrize("binarize", ["dynamic", "none"])
def test_device_batches_equal_grain_batches_across_epochs(tiny_config, num_devices, binarize):
    config = tiny_config
    config.data.binarize = binarize
    config.data.flatten = binarize == "dynamic"
    config.data.train_labels = (0, 1)  # ~360 examples: an epoch is ~6 batches of 64
    config.data.batch_size = 64
    host, device = _sources(config, num_devices)
    for k in (1, 4, 3):  # 8 batches: crosses an epoch boundary
        expected, got = host.next_stacked(k), device.next_stacked(k)
        assert got.keys() == expected.keys()
        for key in expected:
            assert got[key].dtype == expected[key].dtype
            assert got[key].sharding.is_equivalent_to(expected[key].sharding, got[key].ndim)
            np.testing.assert_array_equal(jax.device_get(got[key]), jax.device_get(expected[key]))


def test_auto_keeps_a_small_split_on_the_devices_and_never_means_grain(tiny_config):
    spec = build_run_spec(tiny_config)
    source, _ = load_split(tiny_config.data, "train")
    mesh = make_data_mesh(1)
    picked = {}
    for mode in ("auto", "never", "always"):
        tiny_config.data.device_resident = mode
        picked[mode] = make_train_batches(
            tiny_config, spec.transform, spec.example_shape, source, mesh, seed=0
        )
    assert isinstance(picked["auto"], DeviceBatches)
    assert isinstance(picked["never"], HostBatches)
    assert isinstance(picked["always"], DeviceBatches)
    tiny_config.data.device_resident = "sometimes"
    with pytest.raises(ValueError, match=r"must be one of .auto., .always., .never."):
        make_train_batches(tiny_config, spec.transform, spec.example_shape, source, mesh, seed=0)


def _final_params(workdir):
    manager = ocp.CheckpointManager(os.path.join(workdir, "checkpoints"), item_names=("state",))
    step = manager.latest_step()
    restored = manager.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore()))
    manager.close()
    return step, restored["state"]["params"]


@pytest.mark.slow
def test_training_on_device_batches_matches_grain_and_resumes_across_sources(tmp_path, tiny_config):
    config = tiny_config
    config.data.binarize = "dynamic"
    config.train.num_steps = 12
    config.train.steps_per_call = 3
    config.train.checkpoint_every = 6
    config.train.eval_every = 6

    params = {}
    for mode in ("never", "always"):
        config.data.device_resident = mode
        train_and_evaluate(config, str(tmp_path / mode))
        params[mode] = _final_params(str(tmp_path / mode))

    # Half on grain, the rest on device batches (and the reverse): same parameters.
    for first, second in (("never", "always"), ("always", "never")):
        workdir = str(tmp_path / f"{first}_then_{second}")
        half = config.copy_and_resolve_references()
        half.train.num_steps = 6
        half.data.device_resident = first
        train_and_evaluate(half, workdir)
        config.data.device_resident = second
        train_and_evaluate(config, workdir)
        params[f"{first}_then_{second}"] = _final_params(workdir)

    for name, (step, values) in params.items():
        assert step == 12, name
        jax.tree.map(np.testing.assert_array_equal, values, params["never"][1])
