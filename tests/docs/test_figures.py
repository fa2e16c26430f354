"""The figure modules of docs/make_figures.py (dsprites_figure.py, compared_reconstructions.py),
from run directories the tests write."""

import functools
import json

import numpy as np
import pytest

from aelab.visualization import image_grid, save_png
from tests.conftest import REPO, load_module


@functools.cache
def _module():
    return load_module(REPO / "docs" / "dsprites_figure.py")


def _evaluated_run(path, dims: int = 3):
    grids = path / "evaluation" / "step_100"
    grids.mkdir(parents=True)
    cells = np.random.default_rng(0).uniform(size=(5 * 9, 8, 8, 1))  # 5 examples x 9 steps
    for dim in range(dims):
        save_png(image_grid(cells, columns=9), grids / f"traversal_dim_{dim:02d}.png")
    metrics = {"disentanglement/mig": 0.125, "disentanglement/beta_vae_score": 0.75}
    (path / "results.json").write_text(json.dumps({"metrics": metrics}))
    return path


def test_the_traversal_figure_has_a_row_per_dimension_and_the_scores(tmp_path):
    make_figures = _module()
    import matplotlib.pyplot as plt

    heights = []
    for dims in (2, 6):
        run = _evaluated_run(tmp_path / f"run{dims}", dims)
        path = make_figures.dsprites_traversals(str(run), str(tmp_path / f"figures{dims}"))
        heights.append(plt.imread(path).shape[0])
    assert heights[1] > 2 * heights[0] * 0.8  # one row per code dimension


def test_a_run_without_disentanglement_results_is_named_with_the_fix(tmp_path):
    make_figures = _module()
    (tmp_path / "run").mkdir()
    with pytest.raises(FileNotFoundError, match=r"experiments/evaluate\.py --workdir="):
        make_figures.dsprites_traversals(str(tmp_path / "run"), str(tmp_path / "figures"))


def _run_with_grid(path, reconstruction_value: float, inputs_seed: int = 0):
    images = path / "images"
    images.mkdir(parents=True)
    inputs = np.random.default_rng(inputs_seed).uniform(size=(8, 8, 8, 1))
    cells = np.concatenate([inputs[:4], np.full((4, 8, 8, 1), reconstruction_value)])
    cells = np.concatenate([cells, np.concatenate([inputs[4:], cells[4:]])])
    save_png(image_grid(cells, columns=4), images / "reconstructions_00000010.png")
    return str(path)


def test_compared_reconstructions_show_each_run_under_the_same_inputs(tmp_path):
    compared = load_module(REPO / "docs" / "compared_reconstructions.py")
    runs = [("a", _run_with_grid(tmp_path / "a", 0.0)), ("b", _run_with_grid(tmp_path / "b", 1.0))]
    path = compared.compared_reconstructions(runs, str(tmp_path / "figure.png"))
    import matplotlib.pyplot as plt

    assert plt.imread(path).shape[0] > 0
    other = ("c", _run_with_grid(tmp_path / "c", 0.5, inputs_seed=1))
    with pytest.raises(ValueError, match="different input images"):
        compared.compared_reconstructions([runs[0], other], str(tmp_path / "other.png"))
