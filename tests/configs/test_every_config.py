"""Every config under configs/ builds, and its smoke variant trains and checkpoints."""

import os
import re

import jax
import pytest

from aelab.data import DataError
from aelab.evaluation import train_and_evaluate
from aelab.training.experiment import build_run_spec
from aelab.training.mesh import make_data_mesh
from aelab.training.optimizers import build_optimizer
from aelab.training.state import create_train_state
from tests.conftest import (
    all_config_names,
    config_module,
    load_config,
    missing_local_data,
    skip_without_metadata,
)

CONFIGS = all_config_names()


def test_configs_exist():
    for name in [
        "quickstart",
        "mnist_dense:vae",
        "images:mnist_conv_ae",
        "images:fashion_mnist_conv_vae",
        "ecg5000_recurrent:lstm_ae",
    ]:
        assert name in CONFIGS


@pytest.mark.parametrize("name", CONFIGS)
def test_config_builds(name):
    config = load_config(name)
    skip_without_metadata(config)
    smoke = load_config(name, "smoke")
    assert smoke.train.num_steps < config.train.num_steps
    assert _abstract_params(config)


def _abstract_params(config):
    """The config's model parameters as shapes: jax.eval_shape traces the whole
    initialisation without computing it."""
    spec = build_run_spec(config)
    mesh = make_data_mesh(1)
    optimizer = build_optimizer(config.optimizer, config.train.num_steps)
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
    return jax.tree.leaves(abstract.params)


@pytest.mark.parametrize("variant", config_module("images").VARIANTS)
def test_images_full_budget_is_longer_and_builds(variant):
    """`configs/images.py:<variant>,full`, the accelerator budget, trains longer than the
    CPU default, and the residual models at their full widths."""
    default = load_config(f"images:{variant}")
    skip_without_metadata(default)
    full = load_config(f"images:{variant}", "full")
    assert full.train.num_steps > default.train.num_steps
    params = _abstract_params(full)
    count = sum(leaf.size for leaf in params)
    assert count >= sum(leaf.size for leaf in _abstract_params(default))
    if "resnet" in variant:
        assert full.model.channels[0] == 2 * default.model.channels[0]


@pytest.mark.parametrize("variant", config_module("mnist_imputation").VARIANTS)
def test_imputation_full_budget_is_the_same_model_trained_longer(variant):
    """`configs/mnist_imputation.py:<variant>,full` (an accelerator's budget) is the CPU
    default with FULL_FACTOR times the steps; `:full` alone is the MNIST model's."""
    module = config_module("mnist_imputation")
    default = load_config(f"mnist_imputation:{variant}")
    full = load_config(f"mnist_imputation:{variant}", "full")
    assert full.train.num_steps == module.FULL_FACTOR * default.train.num_steps
    assert full.model.to_dict() == default.model.to_dict()
    assert load_config("mnist_imputation:full").train.num_steps == (
        load_config("mnist_imputation:mnist", "full").train.num_steps
    )
    with pytest.raises(ValueError, match="one of smoke or full"):
        load_config(f"mnist_imputation:{variant}", "full,smoke")


@pytest.mark.parametrize("name", CONFIGS)
def test_config_docstring_gives_command_and_result(name):
    """The docstring gives the config's command and a "Result" for it; in a file that
    holds several experiments, each variant's command (`--config=configs/<file>.py:<variant>`)
    and its result, between that command's first appearance and the next variant's."""
    file, _, variant = name.partition(":")
    module = config_module(file)
    doc = module.__doc__ or ""
    assert "experiments/train.py" in doc and f"--config=configs/{file}.py" in doc
    if not variant:
        assert "Result" in doc
        return
    starts = {}
    for v in module.VARIANTS:
        command = re.search(rf"--config=configs/{re.escape(file)}\.py:{re.escape(v)}\b", doc)
        assert command, f"configs/{file}.py's docstring gives no command for variant {v}"
        starts[v] = command.start()
    later = [start for start in starts.values() if start > starts[variant]]
    assert "Result" in doc[starts[variant] : min(later, default=len(doc))]


# The default tier trains the smoke variant of the quickstart config (the recurrent
# model on ECG5000 files has its first steps checked in tests/configs/test_first_steps.py);
# the slow tier trains every one.
QUICK_SMOKE = ("quickstart",)


@pytest.mark.parametrize(
    "name",
    [n if n in QUICK_SMOKE else pytest.param(n, marks=pytest.mark.slow) for n in CONFIGS],
)
def test_smoke_variant_trains_and_checkpoints(name, tmp_path):
    config = load_config(name, "smoke")
    if (why := missing_local_data(config)) is not None:
        pytest.skip(why)
    config.mesh.num_devices = 1
    workdir = str(tmp_path / name.replace("/", "_"))
    try:
        metrics = train_and_evaluate(config, workdir)
    except DataError as e:  # pragma: no cover - a broken data dir is a failure, say why
        pytest.fail(f"data for {name} could not be read: {e}")
    assert os.listdir(os.path.join(workdir, "checkpoints")) == [str(config.train.num_steps)]
    assert os.path.exists(os.path.join(workdir, "metrics.jsonl"))
    # A classifier (conv_classifier) reconstructs nothing, so it draws no snapshots.
    if build_run_spec(config).objective.model_kind != "classifier":
        assert any(f.endswith(".png") for f in os.listdir(os.path.join(workdir, "images")))
    assert all(v == v for v in metrics.values())  # no NaN
