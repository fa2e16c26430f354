"""config.train.init_from: a fresh run starts from an exported model's or a work
directory's weights, with a fresh optimizer; a resumed run ignores it."""

import json
import os

import jax
import numpy as np
import pytest

from aelab.core.errors import ConfigError
from aelab.evaluation import export, load_run
from aelab.sweeps.population_fields import unsupported_problems
from aelab.training import create_train_state, make_data_mesh, train
from aelab.training.experiment import build_run_spec
from aelab.training.optimizers import build_optimizer
from aelab.training.saved_config import is_continuation_field
from aelab.training.warm_start import warm_start
from tests.conftest import load_config


def _config():
    config = load_config("quickstart", "smoke")
    config.mesh.num_devices = 1
    config.model.hidden_dims = (16,)
    config.model.latent_dim = 3
    config.model.batch_norm = True
    config.data.batch_size = 16
    config.data.eval_batch_size = 120
    config.optimizer.schedule = "constant"
    config.train.num_steps = 4
    config.train.log_every = 2
    config.train.eval_every = 2
    config.train.checkpoint_every = 2
    config.train.steps_per_call = 2
    return config


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """(work directory, export) of a trained run A."""
    root = tmp_path_factory.mktemp("warm_start")
    workdir = str(root / "a")
    train(_config(), workdir)
    return workdir, export(workdir, str(root / "a_export"))


def _fresh_state(config):
    spec = build_run_spec(config)
    optimizer = build_optimizer(config.optimizer, int(config.train.num_steps))
    _, state, shardings = create_train_state(
        config.model,
        spec.example_shape,
        spec.output_shape,
        optimizer,
        seed=123,
        mesh=make_data_mesh(1),
    )
    return state, shardings


def _close(a, b, atol=0.0) -> bool:
    return all(
        np.allclose(x, y, rtol=0, atol=atol)
        for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)
    )


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["export", pytest.param("workdir", marks=pytest.mark.slow)])
def test_a_fresh_state_takes_the_sources_weights_and_keeps_a_fresh_optimizer(source, kind):
    workdir, exported = source
    trained = load_run(workdir)
    state, shardings = _fresh_state(_config())
    assert not _close(state.params, trained.params, atol=1e-3)

    started, origin = warm_start(state, shardings, exported if kind == "export" else workdir)

    assert origin == {"path": exported if kind == "export" else workdir, "kind": kind, "step": 4}
    assert _close(started.params, trained.params)
    assert _close(started.model_state, trained.model_state)
    assert jax.tree.leaves(started.model_state)  # batch statistics too
    assert _close(started.opt_state, state.opt_state) and int(started.step) == 0
    assert jax.tree.map(lambda x: x.sharding, started.params) == shardings.params


@pytest.mark.slow
def test_a_model_of_other_shapes_is_refused_naming_the_first_array(source):
    config = _config()
    config.model.hidden_dims = (8,)
    state, shardings = _fresh_state(config)
    for path in source:
        with pytest.raises(
            ConfigError,
            match=r"config.train.init_from=.*: array params/decoder/\S+ is float32 \[16\]",
        ):
            warm_start(state, shardings, path)


def test_init_from_that_names_no_model_is_one_config_error(tmp_path):
    state, shardings = _fresh_state(_config())
    with pytest.raises(ConfigError, match="is neither an exported model"):
        warm_start(state, shardings, str(tmp_path))


def test_a_fresh_run_with_an_init_from_that_names_no_model_writes_nothing(tmp_path):
    config = _config()
    config.train.init_from = str(tmp_path / "gone")
    with pytest.raises(ConfigError, match=r"init_from=.*gone' is neither an exported model"):
        train(config, str(tmp_path / "run"))
    assert not (tmp_path / "run").exists()


def _warm_started_run(exported, workdir):
    config = _config()
    config.train.init_from = exported
    config.optimizer.learning_rate = 1e-9  # two steps barely move the weights
    config.train.num_steps = 2
    train(config, workdir)
    return config


def _run_info(workdir):
    with open(os.path.join(workdir, "run_info.json")) as f:
        return json.load(f)


@pytest.mark.slow
def test_a_fresh_run_starts_from_init_from_and_records_it(source, tmp_path):
    workdir, exported = source
    started = str(tmp_path / "b")
    _warm_started_run(exported, started)
    assert _run_info(started)["initialized_from"] == {
        "path": exported,
        "kind": "export",
        "step": 4,
    }
    assert _close(load_run(started).params, load_run(workdir).params, atol=1e-6)


@pytest.mark.slow
def test_a_resumed_run_ignores_init_from_even_when_it_is_gone(source, tmp_path):
    _, exported = source
    started = str(tmp_path / "b")
    config = _warm_started_run(exported, started)
    config.train.init_from = str(tmp_path / "gone")
    config.train.num_steps = 4
    train(config, started)
    info = _run_info(started)
    assert info["final_step"] == 4 and info["initialized_from"]["path"] == exported


def test_init_from_may_change_on_resume_and_a_population_refuses_it():
    assert is_continuation_field("train.init_from")
    config = _config()
    config.train.init_from = "exports/a"
    assert any("config.train.init_from='exports/a'" in p for p in unsupported_problems(config))
