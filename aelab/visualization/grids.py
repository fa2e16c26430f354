"""Image grids and time-series panels, written as PNG files."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import numpy as np
from PIL import Image


def image_grid(
    images: np.ndarray, *, columns: int | None = None, padding: int = 1, pad_value: float = 1.0
) -> np.ndarray:
    """Tiles images into one picture.

    Args:
      images: [n, height, width] or [n, height, width, channels] (1 or 3 channels), values
        in [0, 1] (clipped).
      columns: images per row (default: about sqrt(n)).
      padding: pixels between tiles.
    Returns:
      uint8 [rows * (height + padding) + padding, columns * (width + padding) + padding,
      channels].
    """
    images = np.asarray(images, np.float32)
    if images.ndim == 3:
        images = images[..., None]
    n, height, width, channels = images.shape
    columns = columns or max(1, math.ceil(math.sqrt(n)))
    rows = math.ceil(n / columns)
    grid = np.full(
        (rows * (height + padding) + padding, columns * (width + padding) + padding, channels),
        pad_value,
        np.float32,
    )
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        top, left = padding + r * (height + padding), padding + c * (width + padding)
        grid[top : top + height, left : left + width] = image
    return (np.clip(grid, 0.0, 1.0) * 255).round().astype(np.uint8)


def save_png(picture: np.ndarray, path: str | os.PathLike, *, scale: int = 1) -> None:
    """Writes a uint8 [h, w, 1 | 3] picture as PNG, each pixel repeated `scale` times."""
    if scale > 1:
        picture = picture.repeat(scale, axis=0).repeat(scale, axis=1)
    if picture.shape[-1] == 1:
        picture = picture[..., 0]
    os.makedirs(os.path.dirname(os.fspath(path)) or ".", exist_ok=True)
    Image.fromarray(picture).save(path)


def series_panel(
    rows: Sequence[tuple[str, np.ndarray]], path: str | os.PathLike, *, max_series: int = 8
) -> None:
    """Plots time series side by side: one subplot per example, one line per row label.

    Args:
      rows: (label, series [n, length] or [n, length, 1]) pairs, e.g. ("input", x),
        ("reconstruction", x_hat); the first `max_series` examples are drawn.
      path: PNG file to write.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    count = min(max_series, min(len(series) for _, series in rows))
    fig, axes = plt.subplots(1, count, figsize=(2.2 * count, 2.0), squeeze=False)
    for i in range(count):
        ax = axes[0, i]
        for label, series in rows:
            ax.plot(np.asarray(series[i]).reshape(-1), label=label, linewidth=1)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0, 0].legend(fontsize=6, loc="lower left")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.fspath(path)) or ".", exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
