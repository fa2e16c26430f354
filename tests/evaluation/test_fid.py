"""The `fid` evaluator: Inception FID (pytorch-fid weights) of reconstructions and
samples, with its real-vs-real floor; bad input fails before anything is written.

The Inception is random, at 1/16 of the published widths (a file each test module
writes); what is checked is the evaluator's plumbing and the distances' meaning, not
the published network's numbers.
"""

import json
import os
import types

import numpy as np
import pytest

from aelab.config import base_config
from aelab.core.errors import ConfigError
from aelab.evaluation import build_evaluator, evaluate_run, train_and_evaluate
from aelab.evaluation.context import SplitData
from aelab.evaluation.fid import as_png_levels
from aelab.evaluation.inception_weights import (
    InceptionWeightsError,
    random_inception_weights,
    save_inception_weights,
)

DIVISOR = 16
BATCH = 4


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("inception") / "fid_inception_small.npz"
    save_inception_weights(path, random_inception_weights(DIVISOR, seed=0))
    return str(path)


class _Calls:
    """A model whose reconstructions are `reconstruct(inputs)` and, when variational,
    whose prior samples decode to `samples`."""

    condition_dim = None

    def __init__(self, reconstruct, samples=None):
        self._reconstruct = reconstruct
        self.samples = samples
        self.is_variational = samples is not None

    def label_condition(self, labels):
        return None

    def reconstruct(self, inputs, condition=None):
        return self._reconstruct(inputs)

    def sample_prior(self, key, num_samples):
        return np.zeros((num_samples, 2), np.float32)

    def decode(self, z, condition=None):
        return self.samples[: len(z)]


def _context(calls, *, shape=(28, 28, 1), value_max=255.0, n=12):
    """The parts of an EvalContext the fid evaluator reads: `n` evaluation images and
    `n` other training images, uniform noise and a bright square."""
    rng = np.random.default_rng(0)

    def images(offset):
        x = rng.uniform(0, 0.3, (n, *shape)).astype(np.float32)
        if len(shape) == 3:
            x[:, offset : offset + 10, offset : offset + 10] += 0.6
        return x

    splits = {"eval": images(4), "train": images(6)}
    return types.SimpleNamespace(
        split=lambda which, labels=None, max_examples=None: SplitData(
            splits[which][:max_examples], None
        ),
        eval_labels=lambda: None,
        model_calls=calls,
        key=lambda name: None,
        display_shape=shape,
        is_image=len(shape) == 3,
        spec=types.SimpleNamespace(transform=types.SimpleNamespace(value_max=value_max)),
    )


def _fid(weights_file, context, **options):
    evaluator = build_evaluator(
        "fid", {"weights_path": weights_file, "batch_size": BATCH, **options}
    )
    return evaluator(context)


def test_a_model_that_reconstructs_exactly_has_an_rfid_of_zero(weights_file):
    context = _context(_Calls(lambda x: x))
    metrics = _fid(weights_file, context)
    # Identical sets: zero, where two different sets of real images are measurably apart.
    assert metrics["train_test_fid"] > 1e-2
    assert metrics["rfid"] < 1e-3 * metrics["train_test_fid"]
    assert metrics["num_examples"] == 12
    assert "fid" not in metrics  # no prior, no samples


def test_samples_are_measured_for_a_latent_variable_model(weights_file):
    context = _context(_Calls(lambda x: x))
    real = context.split("eval").inputs
    same = _fid(weights_file, _context(_Calls(lambda x: x, samples=real.copy())))
    blank = _fid(weights_file, _context(_Calls(lambda x: x, samples=np.zeros_like(real))))
    assert same["fid"] < 1e-3 * same["train_test_fid"]
    assert blank["fid"] > same["train_test_fid"] > 0


def test_reconstructions_further_from_the_images_score_higher(weights_file):
    faint = _fid(weights_file, _context(_Calls(lambda x: 0.9 * x)), num_examples=8)
    faded = _fid(weights_file, _context(_Calls(lambda x: 0.3 * x)), num_examples=8)
    assert 0 < faint["rfid"] < faded["rfid"]
    assert faint["num_examples"] == 8


def test_images_are_compared_as_8_bit_pngs():
    x = np.array([[-0.5, 0.1234, 0.5, 1.7]], np.float32)
    levels = as_png_levels(x, (2, 2, 1), "images")
    assert levels.shape == (1, 2, 2, 1) and levels.dtype == np.float32
    np.testing.assert_allclose(levels.ravel(), np.array([0, 31, 128, 255]) / 255, rtol=1e-7)


def test_nan_reconstructions_fail_before_any_feature(weights_file):
    context = _context(
        _Calls(lambda x: np.where(np.arange(len(x))[:, None, None, None] == 3, np.nan, x))
    )
    with pytest.raises(ValueError, match=r"1 of 12 reconstructions hold NaN or infinite values"):
        _fid(weights_file, context)


def test_weights_whose_features_overflow_are_refused(tmp_path):
    params = random_inception_weights(DIVISOR, seed=0)
    for name in ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3"):
        params[f"{name}.bn.weight"] *= 1e30  # finite, but the activations overflow
    path = tmp_path / "overflowing.npz"
    save_inception_weights(path, params)
    with pytest.raises(ValueError, match=r"Inception features of 12 of 12 real evaluation images"):
        _fid(str(path), _context(_Calls(lambda x: x)))


def test_data_that_are_not_unit_range_images_are_refused(weights_file):
    with pytest.raises(ValueError, match=r"compares images \[height, width, 1 or 3\]"):
        _fid(weights_file, _context(_Calls(lambda x: x), shape=(40,)))
    with pytest.raises(ValueError, match=r"not scaled \(set config.data.scale=True\)"):
        _fid(weights_file, _context(_Calls(lambda x: x), value_max=None))


def test_the_weights_path_is_required_and_names_the_converter():
    with pytest.raises(ConfigError, match=r"evals\.fid\.weights_path is missing") as error:
        build_evaluator("fid", {})
    assert "tools/convert_inception_weights.py" in str(error.value)


# ------------------------------------------------------------------ end to end


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory):
    """A dense VAE on the 8x8 digits, trained for a few steps."""
    config = base_config(data="digits", model="dense_vae", objective="elbo")
    config.mesh.num_devices = 1
    config.data.batch_size = 32
    config.data.eval_batch_size = 120
    config.model.hidden_dims = (32,)
    config.model.latent_dim = 4
    config.train.num_steps = 20
    config.train.log_every = 20
    config.train.eval_every = 20
    config.train.checkpoint_every = 20
    config.train.steps_per_call = 1
    config.evals = {}
    workdir = str(tmp_path_factory.mktemp("fid_run"))
    train_and_evaluate(config, workdir)
    return workdir


def _results(workdir):
    path = os.path.join(workdir, "results.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


@pytest.mark.slow  # trains for 20 steps (~15 s), then ~100 Inception passes (~13 s)
def test_evaluate_run_writes_rfid_fid_and_the_floor(vae_run, weights_file):
    overrides = {"fid.weights_path": weights_file, "fid.num_examples": 24, "fid.batch_size": 8}
    record = evaluate_run(vae_run, evals=["fid"], overrides=overrides)
    written = _results(vae_run)["metrics"]
    for name in ("rfid", "fid", "train_test_fid", "num_examples"):
        assert written[f"fid/{name}"] == record["metrics"][f"fid/{name}"]
    assert written["fid/num_examples"] == 24
    values = [written[f"fid/{name}"] for name in ("rfid", "fid", "train_test_fid")]
    assert all(np.isfinite(v) and v > 0 for v in values)
    # 20 steps: blurry reconstructions and samples, farther than other real digits.
    assert written["fid/fid"] > written["fid/train_test_fid"]


@pytest.mark.slow  # the trained run of the test above
def test_a_missing_weights_file_fails_before_anything_is_written(vae_run, tmp_path):
    before = _results(vae_run)
    missing = str(tmp_path / "fid_inception.safetensors")
    with pytest.raises(InceptionWeightsError, match=r"no such file.*convert_inception_weights"):
        evaluate_run(vae_run, evals=["fid"], overrides={"fid.weights_path": missing})
    assert _results(vae_run) == before
