"""aelab.train and aelab.load: a tiny run trained from Python, its TrainedModel calls."""

import json
import logging

import numpy as np
import pytest
from sklearn.datasets import load_digits

import aelab
from aelab.evaluation.loading import load_run
from aelab.evaluation.model_calls import ModelCalls
from aelab.training import TrainCallback


def _tiny(name="quickstart:smoke", **overrides):
    return aelab.load_config(
        name,
        mesh__num_devices=1,
        train__num_steps=6,
        train__log_every=3,
        train__eval_every=6,
        train__checkpoint_every=6,
        train__steps_per_call=3,
        **overrides,
    )


class Recorder(TrainCallback):
    def __init__(self):
        self.logged, self.checkpointed = [], []

    def on_log(self, step, scalars):
        self.logged.append(step)

    def on_checkpoint(self, step):
        self.checkpointed.append(step)


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("api") / "vae")
    recorder = Recorder()
    metrics = aelab.train(_tiny(), workdir, callbacks=[recorder], progress="none")
    return workdir, metrics, recorder


@pytest.fixture(scope="module")
def vae(vae_run):
    return aelab.load(vae_run[0])


@pytest.fixture(scope="module")
def digits():
    return load_digits().images[:12].astype(np.float64)  # raw grey levels 0..16


def test_train_returns_the_last_evaluation_and_calls_the_callbacks(vae_run):
    _, metrics, recorder = vae_run
    assert np.isfinite(metrics["eval/elbo"])
    assert recorder.logged == [3, 6]
    assert recorder.checkpointed == [6]


@pytest.mark.slow
def test_a_config_name_trains_like_its_config(tmp_path):
    metrics = aelab.train("quickstart:smoke", str(tmp_path / "named"), progress="none")
    assert np.isfinite(metrics["eval/loss"])
    assert aelab.load(str(tmp_path / "named")).step == 20


@pytest.mark.slow
def test_log_mode_shows_the_step_lines_a_script_expects(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="absl"):
        aelab.train(_tiny(), str(tmp_path / "logged"), progress="log")
    assert any("step 6/6" in r.getMessage() for r in caplog.records)


@pytest.mark.slow
def test_bar_mode_draws_a_progress_bar_to_the_last_step(tmp_path, capsys):
    aelab.train(_tiny(), str(tmp_path / "bar"), progress="bar")
    err = capsys.readouterr().err
    assert "6/6" in err and "step" in err


def test_a_bad_progress_mode_is_refused_before_training(tmp_path):
    with pytest.raises(ValueError, match="progress='fancy' is not valid"):
        aelab.train(_tiny(), str(tmp_path / "never"), progress="fancy")
    assert not (tmp_path / "never").exists()


def test_loaded_calls_match_the_evaluation_models(vae, vae_run, digits):
    run = load_run(vae_run[0])
    calls = ModelCalls(run.graphdef, run.params, run.model_state, run.spec.objective.likelihood)
    inputs = digits[..., None].astype(np.float32) / 16.0
    np.testing.assert_allclose(vae.reconstruct(digits), calls.reconstruct(inputs), rtol=1e-6)
    np.testing.assert_allclose(vae.encode(digits), calls.codes(inputs), rtol=1e-6)
    assert "dense_vae" in repr(vae) and vae.step == 6


def test_inputs_raw_scaled_or_without_batch_or_channel_axes_agree(vae, digits):
    reference = vae.reconstruct(digits[..., None])
    assert reference.shape == (12, 8, 8, 1)
    np.testing.assert_allclose(vae.reconstruct(digits), reference)
    np.testing.assert_allclose(vae.reconstruct(digits / 16.0, scaled=True), reference, rtol=1e-6)
    np.testing.assert_allclose(vae.reconstruct(digits[0]), reference[:1])


def test_shapes_of_every_call(vae, digits):
    assert vae.encode(digits).shape == (12, 8)
    mean, log_var = vae.encode_distribution(digits)
    assert mean.shape == log_var.shape == (12, 8)
    assert vae.decode(vae.encode(digits)).shape == (12, 8, 8, 1)
    samples = vae.sample(5, seed=1)
    assert samples.shape == (5, 8, 8, 1) and np.all((samples >= 0) & (samples <= 1))
    assert not np.allclose(samples, vae.sample(5, seed=2))
    path = vae.interpolate(digits[0], digits[1], num_steps=4)
    assert path.shape == (4, 8, 8, 1)
    np.testing.assert_allclose(path[0], vae.reconstruct(digits[0])[0], atol=1e-6)
    np.testing.assert_allclose(path[-1], vae.reconstruct(digits[1])[0], atol=1e-6)


def test_big_inputs_go_through_in_batches(vae_run, digits):
    small = aelab.load(vae_run[0], batch_size=5)
    big = np.concatenate([digits] * 3)  # 36 rows: 7 batches of 5, the last padded
    np.testing.assert_allclose(small.reconstruct(big)[24:], small.reconstruct(digits), rtol=1e-6)


def test_scores(vae, digits):
    error = vae.score(digits)
    expected = np.mean((vae.reconstruct(digits) - digits[..., None] / 16.0) ** 2, axis=(1, 2, 3))
    np.testing.assert_allclose(error, expected, rtol=1e-5)
    nll = vae.score(digits, "nll", num_samples=20)
    negative_elbo = vae.score(digits, "negative_elbo", num_samples=20)
    assert nll.shape == (12,) and np.all(nll <= negative_elbo + 1e-3)
    with pytest.raises(ValueError, match="Unknown score 'loss'; choose one of"):
        vae.score(digits, "loss")


def test_examples_of_another_shape_are_one_clear_error(vae):
    with pytest.raises(
        ValueError, match=r"shape \(28, 28\).*trained on digits examples of shape \(8, 8, 1\)"
    ):
        vae.encode(np.zeros((3, 28, 28)))
    with pytest.raises(ValueError, match="No examples"):
        vae.encode(np.zeros((0, 8, 8, 1)))


@pytest.mark.slow
def test_a_deterministic_autoencoder_has_no_prior(tmp_path, digits):
    config = _tiny("quickstart:smoke")
    config.model.name = "dense_ae"
    config.objective.name = "reconstruction"
    config.objective.likelihood = "mse"
    config.train.best_metric = "eval/loss"
    aelab.train(config, str(tmp_path / "ae"), progress="none")
    ae = aelab.load(str(tmp_path / "ae"))
    assert ae.reconstruct(digits).shape == (12, 8, 8, 1)
    with pytest.raises(ValueError, match="needs a variational model"):
        ae.sample(3)
    with pytest.raises(ValueError, match="needs a variational model"):
        ae.score(digits, "nll")


@pytest.mark.slow
def test_in_memory_arrays_train_the_configs_model(tmp_path, digits):
    images = load_digits().images.astype(np.uint8)  # grey levels 0-16: scaled by 16
    workdir = tmp_path / "arrays"
    config = _tiny()
    aelab.train(
        config, str(workdir), data={"train": images[:300], "test": images[300:400]}, progress="none"
    )
    saved = json.loads((workdir / "config.json").read_text())["data"]
    assert saved["name"] == "arrays" and len(saved["arrays"]) == 16
    assert config.data.name == "digits"  # the caller's config is left as it was
    model = aelab.load(str(workdir))
    assert model.info.name == "arrays" and model.info.value_max == 16
    assert model.reconstruct(digits).shape == (12, 8, 8, 1)


@pytest.mark.slow
def test_train_leaves_the_absl_loggers_level_as_it_was(tmp_path):
    import absl.logging

    logger = absl.logging.get_absl_logger()
    before = logger.level
    aelab.train(_tiny(), str(tmp_path / "quiet"), progress="none")
    assert logger.level == before
