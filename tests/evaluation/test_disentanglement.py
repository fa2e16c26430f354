"""The disentanglement evaluator end to end: a tiny VAE trained a few steps on
dsprites_small, then every metric and the traversal grids; and its one-line refusal of a
data set without factors."""

import os

import numpy as np
import pytest

from aelab.config import base_config
from aelab.data import dataset_info, load_split
from aelab.data.pipeline import PipelineOptions
from aelab.data.transforms import BatchTransform
from aelab.evaluation import build_evaluator, evaluate_run, train_and_evaluate

METRICS = (
    "beta_vae_score",
    "factor_vae_score",
    "mig",
    "sap",
    "dci_disentanglement",
    "dci_completeness",
    "dci_informativeness",
    "modularity",
    "explicitness",
    "active_units",
)
FAST = {
    "fit_examples": 150,
    "score_examples": 80,
    "batch_size": 8,
    "classifier_fit_points": 30,
    "classifier_score_points": 20,
    "variance_examples": 100,
    "dci_estimators": 2,
    "traversal_examples": 2,
    "traversal_steps": 3,
}


def _tiny_config(data: str):
    config = base_config(data=data, model="dense_vae", objective="elbo", likelihood="bernoulli")
    config.mesh.num_devices = 1
    config.model.hidden_dims = (16,)
    config.model.latent_dim = 3
    config.data.batch_size = 16
    config.data.eval_batch_size = 64
    config.data.validation_fraction = 0.0
    config.train.num_steps = 4
    config.train.log_every = 2
    config.train.eval_every = 4
    config.train.checkpoint_every = 4
    config.train.steps_per_call = 2
    config.evals = {}
    return config


@pytest.mark.slow  # trains a model (about 15 s on two CPU cores)
def test_the_evaluator_gives_every_metric_and_a_grid_per_dimension(tmp_path):
    workdir = str(tmp_path / "run")
    train_and_evaluate(_tiny_config("dsprites_small"), workdir)
    record = evaluate_run(
        workdir,
        step="latest",
        evals=["disentanglement"],
        overrides={f"disentanglement.{k}": v for k, v in FAST.items()},
    )
    results = {
        key.removeprefix("disentanglement/"): value for key, value in record["metrics"].items()
    }
    for name in METRICS:
        assert np.isfinite(results[name]), name
        assert -1e-9 <= results[name] <= (3 if name == "active_units" else 1 + 1e-9), name
    assert results["code_size"] == 3 and results["num_plots"] == 3
    plots = [os.path.join(workdir, plot) for plot in record["plots"]]
    assert sorted(os.path.basename(plot) for plot in plots) == [
        f"traversal_dim_{i:02d}.png" for i in range(3)
    ]
    assert all(os.path.getsize(plot) > 0 for plot in plots)


class _DigitsRun:
    """What the evaluator reads first of a context: the run's config and pipeline."""

    config = _tiny_config("digits")
    pipeline = PipelineOptions.from_section(config.data, path="data")


def test_a_data_set_without_factors_is_one_line():
    with pytest.raises(ValueError, match=r"'digits' has none: remove 'disentanglement'") as error:
        build_evaluator("disentanglement", FAST)(_DigitsRun())
    assert "\n" not in str(error.value)


class _ReadPositionAndSize:
    """A hand-made encoder of dSprites images: the sprite's centroid (x, y) and the
    square root of its area, then `noise_dims` dimensions of noise (`signal=False`:
    only the noise)."""

    is_variational = False

    def __init__(self, noise_dims: int = 0, signal: bool = True):
        self.noise_dims, self.signal = noise_dims, signal

    def codes(self, x: np.ndarray) -> np.ndarray:
        image = x[..., 0]
        area = image.sum(axis=(1, 2))
        pixels = np.arange(image.shape[1])
        x_mean = (image.sum(axis=1) * pixels).sum(axis=1) / area
        y_mean = (image.sum(axis=2) * pixels).sum(axis=1) / area
        rng = np.random.default_rng(len(x))
        noise = rng.standard_normal((len(x), self.noise_dims))
        signal = np.stack([x_mean, y_mean, np.sqrt(area)], axis=1)
        return np.concatenate([signal, noise], axis=1) if self.signal else noise


class _Spec:
    info = dataset_info(_tiny_config("dsprites_small").data)
    transform = BatchTransform(input_key="image", value_max=1.0)


class _HandMadeRun:
    """A context whose model is `_ReadPositionAndSize`, on dsprites_small's test split."""

    config = _tiny_config("dsprites_small")
    pipeline = PipelineOptions.from_section(config.data, path="data")
    spec = _Spec()
    seed = 0
    is_chief = True

    def __init__(self, calls):
        self.model_calls = calls

    def source(self, which):
        assert which == "eval"
        return load_split(self.config.data, "test")[0]

    def rng(self, name):
        return np.random.default_rng(0)


def test_an_encoder_of_position_and_size_scores_as_expected():
    options = {**FAST, "traversal_examples": 0, "fit_examples": 120, "score_examples": 100}
    results = build_evaluator("disentanglement", options)(_HandMadeRun(_ReadPositionAndSize()))
    # x and y have a dimension each, the area mixes scale and shape, orientation has none.
    assert 0.4 < results["mig"] < 0.9
    assert results["dci_disentanglement"] > 0.4 and results["dci_informativeness"] > 0.7
    assert results["active_units"] == 3 and results["code_size"] == 3
    assert results["factor_vae_score"] > 0.4 and results["beta_vae_score"] > 0.4
    noise = build_evaluator("disentanglement", options)(
        _HandMadeRun(_ReadPositionAndSize(3, signal=False))
    )
    assert noise["active_units"] == 3
    assert noise["mig"] < 0.1 and noise["dci_informativeness"] < 0.5
    assert noise["explicitness"] < results["explicitness"] - 0.2
