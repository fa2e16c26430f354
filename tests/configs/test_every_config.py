"""Every config under configs/ builds, and its smoke variant trains and checkpoints."""

import os

import jax
import pytest

from aelab.data import DataError
from aelab.evaluation import train_and_evaluate
from aelab.training.experiment import build_run_spec
from aelab.training.mesh import make_data_mesh
from aelab.training.optimizers import build_optimizer
from aelab.training.state import create_train_state
from tests.conftest import all_config_names, load_config, needs_local_data

CONFIGS = all_config_names()


def test_configs_exist():
    for name in ["quickstart", "mnist_vae", "mnist_conv_ae", "fashion_mnist_conv_vae"]:
        assert name in CONFIGS


@pytest.mark.parametrize("name", CONFIGS)
def test_config_builds(name):
    config = load_config(name)
    smoke = load_config(name, "smoke")
    assert smoke.train.num_steps < config.train.num_steps
    spec = build_run_spec(config)
    mesh = make_data_mesh(1)
    optimizer = build_optimizer(config.optimizer, config.train.num_steps)
    # Shapes only: jax.eval_shape traces the whole initialisation without computing it.
    abstract = jax.eval_shape(
        lambda: create_train_state(
            config.model,
            spec.example_shape,
            spec.output_shape,
            optimizer,
            seed=0,
            mesh=mesh,
        )[1]
    )
    assert jax.tree.leaves(abstract.params)


@pytest.mark.parametrize("name", CONFIGS)
def test_config_docstring_gives_command_and_result(name):
    import importlib.util

    from tests.conftest import CONFIG_DIR

    path = CONFIG_DIR / f"{name}.py"
    spec = importlib.util.spec_from_file_location("config_module", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    doc = module.__doc__ or ""
    assert "experiments/" in doc and f"configs/{name}.py" in doc
    assert "Result" in doc


@pytest.mark.parametrize("name", CONFIGS)
def test_smoke_variant_trains_and_checkpoints(name, tmp_path):
    config = load_config(name, "smoke")
    if needs_local_data(config) and not os.environ.get("AELAB_DATA_DIR"):
        pytest.skip("AELAB_DATA_DIR is not set: this config reads local data files")
    config.mesh.num_devices = 1
    workdir = str(tmp_path / name.replace("/", "_"))
    try:
        metrics = train_and_evaluate(config, workdir)
    except DataError as e:  # pragma: no cover - a broken data dir is a failure, say why
        pytest.fail(f"data for {name} could not be read: {e}")
    assert os.listdir(os.path.join(workdir, "checkpoints")) == [str(config.train.num_steps)]
    assert os.path.exists(os.path.join(workdir, "metrics.jsonl"))
    assert any(f.endswith(".png") for f in os.listdir(os.path.join(workdir, "images")))
    assert all(v == v for v in metrics.values())  # no NaN
