"""A figure of several runs' reconstructions of the same images, one row per run
(docs/make_figures.py --compare): the training loop's last inputs-over-reconstructions
grid of each run (`images/reconstructions_<step>.png`, the same held-out batch for runs
of one data set and seed), its input rows once, then each run's reconstruction rows.
"""

import glob
import os

import numpy as np


def last_reconstruction_grid(workdir: str) -> str:
    """Path of the training loop's newest inputs-over-reconstructions grid."""
    grids = sorted(glob.glob(os.path.join(workdir, "images", "reconstructions_*.png")))
    if not grids:
        raise FileNotFoundError(
            f"{workdir}/images has no reconstructions_*.png: is it a finished aelab run?"
        )
    return grids[-1]


def grid_rows(grid: np.ndarray, num_rows: int) -> list[np.ndarray]:
    """The grid cut into `num_rows` equal bands of rows of cells."""
    height = grid.shape[0] // num_rows
    return [grid[i * height : (i + 1) * height] for i in range(num_rows)]


def compared_reconstructions(
    runs: list[tuple[str, str]], path: str, *, grid_rows_per_run: int = 4
) -> str:
    """Writes the figure of `runs` ((label, workdir) pairs) to `path`; returns it.

    Each run's grid holds `grid_rows_per_run` bands alternating inputs and their
    reconstructions (the training loop's layout). The input bands must be the same in
    every run: the figure compares reconstructions of the same images.

    Raises:
      FileNotFoundError: a run without reconstruction grids.
      ValueError: runs whose grids show different input images.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bands = {
        label: grid_rows(plt.imread(last_reconstruction_grid(workdir)), grid_rows_per_run)
        for label, workdir in runs
    }
    first_label, first = next(iter(bands.items()))
    for label, rows in bands.items():
        if any(
            rows[i].shape != first[i].shape or not np.allclose(rows[i], first[i], atol=1 / 255)
            for i in range(0, grid_rows_per_run, 2)
        ):
            raise ValueError(
                f"The grids of {first_label!r} and {label!r} show different input images: "
                "compare runs of the same data set, batch and seed."
            )
    inputs = np.concatenate(first[0::2], axis=1)
    figure_rows = [("input", inputs)] + [
        (label, np.concatenate(rows[1::2], axis=1)) for label, rows in bands.items()
    ]
    width = 10
    height = width * inputs.shape[0] / inputs.shape[1] * len(figure_rows) + 0.3
    figure, axes = plt.subplots(len(figure_rows), 1, figsize=(width, height), dpi=110)
    for axis, (label, picture) in zip(axes, figure_rows, strict=True):
        axis.imshow(picture, cmap="gray")
        axis.set_xticks([])
        axis.set_yticks([])
        axis.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    figure.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path
