"""docs/dsprites_figure.py (make_figures.py --dsprites_workdir), from a run directory the
test writes."""

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
