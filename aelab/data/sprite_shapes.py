"""Binary sprites of dSprites' three shapes (square, ellipse, heart), rasterised from
their implicit functions.

A sprite is a square canvas whose geometric centre is the shape's centre. Each pixel is
sampled at `supersample` x `supersample` points and is on when at least half of them
fall inside the shape, so edges are the same for every position the sprite is later
shifted to.
"""

from __future__ import annotations

import numpy as np

SHAPES = ("square", "ellipse", "heart")
SPRITE_SIZE = 32  # pixels of a sprite canvas (each side)
BASE_RADIUS = 9.0  # pixels: the square's half side at scale 1


def _inside(shape: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Whether points (u, v), in units of the shape's radius, are inside `shape`.

    u points right, v points down (image rows); the heart's tip points down.
    """
    if shape == "square":
        return np.maximum(np.abs(u), np.abs(v)) <= 1.0
    if shape == "ellipse":
        return (u / 1.25) ** 2 + (v / 0.625) ** 2 <= 1.0
    if shape == "heart":
        # (x^2 + y^2 - 1)^3 - x^2 y^3 <= 0 spans x in [-1.14, 1.14], y in [-1, 1.25];
        # shifted so its bounding box is centred, and y flipped so the tip points down.
        x, y = 1.1 * u, -1.1 * v + 0.125
        return (x**2 + y**2 - 1.0) ** 3 - x**2 * y**3 <= 0.0
    raise ValueError(f"Unknown shape {shape!r}; choose one of {', '.join(SHAPES)}.")


def render_sprite(
    shape: str,
    scale: float,
    orientation: float,
    *,
    size: int = SPRITE_SIZE,
    radius: float = BASE_RADIUS,
    supersample: int = 4,
) -> np.ndarray:
    """One sprite: `shape` scaled by `scale` and rotated by `orientation`.

    Args:
      shape: one of SHAPES.
      scale: the size relative to scale 1 (the square's half side is `scale * radius`).
      orientation: the rotation in radians (clockwise on screen, rows pointing down).
      size: pixels of the canvas side; the shape's centre is the canvas centre.
      radius: pixels of the square's half side at scale 1.
      supersample: samples per pixel along each axis.

    Returns:
      bool [size, size].

    Raises:
      ValueError: an unknown shape, or a sprite that touches the canvas border (choose
        a smaller `radius` or `scale`, or a larger `size`).
    """
    offsets = (np.arange(size * supersample) + 0.5) / supersample - size / 2
    rows, cols = np.meshgrid(offsets, offsets, indexing="ij")
    cos, sin = np.cos(orientation), np.sin(orientation)
    # Rotating the points by -orientation rotates the shape by +orientation.
    u = (cos * cols + sin * rows) / (scale * radius)
    v = (-sin * cols + cos * rows) / (scale * radius)
    samples = _inside(shape, u, v).reshape(size, supersample, size, supersample)
    sprite = samples.mean(axis=(1, 3)) >= 0.5
    if sprite[0].any() or sprite[-1].any() or sprite[:, 0].any() or sprite[:, -1].any():
        raise ValueError(
            f"The {shape} at scale {scale} touches the border of its {size}-pixel canvas; "
            "choose a smaller radius or a larger canvas."
        )
    return sprite


def render_sprites(scales: np.ndarray, orientations: np.ndarray, **kwargs) -> np.ndarray:
    """Every (shape, scale, orientation) sprite, shapes in SHAPES order.

    Args:
      scales: [num_scales] scales.
      orientations: [num_orientations] angles in radians.
      **kwargs: `size`, `radius`, `supersample` of `render_sprite`.

    Returns:
      bool [len(SHAPES), num_scales, num_orientations, size, size].
    """
    return np.stack(
        [
            np.stack(
                [
                    np.stack([render_sprite(shape, s, o, **kwargs) for o in orientations])
                    for s in scales
                ]
            )
            for shape in SHAPES
        ]
    )
