"""The reconstruction evaluator's LPIPS metric: computed when a weights file is given,
equal to the distance itself, absent otherwise."""

import types

import numpy as np
import pytest

from aelab.evaluation import build_evaluator
from aelab.evaluation.context import SplitData
from aelab.objectives.lpips_weights import random_lpips_weights, save_lpips_weights
from aelab.objectives.perceptual import load_lpips


class _Calls:
    """An unconditional model that shifts its inputs by `shift`."""

    def __init__(self, shift):
        self.shift = shift

    def label_condition(self, labels):
        return None

    def reconstruct(self, inputs, condition=None):
        assert condition is None
        return np.clip(inputs + self.shift, 0.0, 1.0)


def _context(inputs, shift):
    """The parts of an EvalContext the reconstruction evaluator reads."""
    return types.SimpleNamespace(
        split=lambda name, labels=None, max_examples=None: SplitData(
            inputs=inputs[:max_examples], labels=None
        ),
        eval_labels=lambda: False,
        model_calls=_Calls(shift),
        data_range=1.0,
        display_shape=inputs.shape[1:],
        is_image=True,
    )


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("lpips") / "lpips_small.npz"
    save_lpips_weights(path, random_lpips_weights("vgg16", 16, seed=0))
    return str(path)


def test_lpips_is_reported_with_a_weights_file_and_is_the_mean_distance(weights_file):
    inputs = np.random.default_rng(0).uniform(0, 1, (6, 28, 28, 1)).astype(np.float32)
    context = _context(inputs, shift=0.2)
    metrics = build_evaluator("reconstruction", {"lpips_weights": weights_file})(context)
    expected = np.asarray(load_lpips(weights_file)(inputs, np.clip(inputs + 0.2, 0, 1))).mean()
    np.testing.assert_allclose(metrics["lpips"], expected, rtol=1e-5)
    assert metrics["lpips"] > 0 and "psnr" in metrics and "ssim" in metrics
    perfect = build_evaluator("reconstruction", {"lpips_weights": weights_file})(
        _context(inputs, shift=0.0)
    )
    assert perfect["lpips"] == pytest.approx(0.0, abs=1e-7)


def test_no_weights_file_no_lpips():
    inputs = np.random.default_rng(0).uniform(0, 1, (4, 28, 28, 1)).astype(np.float32)
    assert "lpips" not in build_evaluator("reconstruction")(_context(inputs, shift=0.1))
