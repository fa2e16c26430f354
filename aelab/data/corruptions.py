"""Corruptions of clean inputs, for denoising (training targets and evaluation).

Each corruption maps a batch of clean model inputs x [batch, ...] (float32; images in
[0, 1]) to a corrupted copy of the same shape, drawing its noise from a NumPy
`Generator`, so the same seed gives the same corruption on every run. They are
registered by name in `CORRUPTIONS` and applied with `corrupt(name, x, rng, **options)`;
the denoising evaluator and a denoising data transform share these functions.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np

from aelab.registry import Registry

Corruption = Callable[..., np.ndarray]
CORRUPTIONS: Registry[Corruption] = Registry("corruption")


@CORRUPTIONS.register("gaussian_noise")
def gaussian_noise(
    x: np.ndarray, rng: np.random.Generator, *, std: float = 0.3, clip: bool = True
) -> np.ndarray:
    """x + N(0, std^2) per value; clipped to [0, 1] when `clip` (images)."""
    noisy = x + rng.normal(0.0, std, size=x.shape).astype(np.float32)
    return np.clip(noisy, 0.0, 1.0) if clip else noisy


@CORRUPTIONS.register("salt_and_pepper")
def salt_and_pepper(
    x: np.ndarray,
    rng: np.random.Generator,
    *,
    amount: float = 0.2,
    low: float = 0.0,
    high: float = 1.0,
) -> np.ndarray:
    """A fraction `amount` of the values, chosen at random, set to `low` or `high` (half
    each on average)."""
    hit = rng.random(x.shape) < amount
    salt = rng.random(x.shape) < 0.5
    return np.where(hit, np.where(salt, high, low), x).astype(np.float32)


@CORRUPTIONS.register("masking")
def masking(
    x: np.ndarray, rng: np.random.Generator, *, rate: float = 0.5, fill: float = 0.0
) -> np.ndarray:
    """Masking noise (Vincent et al., 2010): a fraction `rate` of the values, chosen at
    random, set to `fill`."""
    return np.where(rng.random(x.shape) < rate, fill, x).astype(np.float32)


def corrupt(name: str, x: np.ndarray, rng: np.random.Generator, **options) -> np.ndarray:
    """Applies the corruption `name` with `options` (e.g. std=0.5) to x [batch, ...].

    Raises a ValueError naming the valid options when an option is unknown.
    """
    function = CORRUPTIONS.get(name)
    valid = [p for p in inspect.signature(function).parameters if p not in ("x", "rng")]
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise ValueError(
            f"Unknown option(s) {', '.join(unknown)} for corruption {name!r}; its options: "
            f"{', '.join(valid)}."
        )
    return function(np.asarray(x, np.float32), rng, **options)


def list_corruptions() -> list[str]:
    """Names of all registered corruptions, sorted."""
    return CORRUPTIONS.names()
