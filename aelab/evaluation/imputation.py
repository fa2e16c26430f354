"""Imputation: missing values (pixels, time steps) filled by the model vs by the mean.

The model fills iteratively: missing values start at the training mean of each
dimension, then `iterations` times the input is reconstructed and the missing values
are replaced by the reconstruction's (observed values always stay as they are). The
baseline fills each missing value with the training mean of its dimension.
"""

from __future__ import annotations

import numpy as np

from aelab.core.options import option, options_class
from aelab.evaluation.registry import Evaluator, register_evaluator

MASKS = ("random", "block")


def missing_mask(
    shape: tuple[int, ...], kind: str, fraction: float, rng: np.random.Generator
) -> np.ndarray:
    """Bool [n, *example_shape], True where a value is missing.

    "random": each value independently with probability `fraction`; "block": in each
    example a contiguous run of round(fraction * length) positions along the first
    example axis (rows of an image, time steps of a series), at a random offset.
    """
    if kind not in MASKS:
        raise ValueError(f"mask {kind!r} is not valid; choose one of {', '.join(MASKS)}.")
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction={fraction} is not valid; it must be in (0, 1).")
    if kind == "random":
        return rng.random(shape) < fraction
    n, length = shape[0], shape[1]
    span = max(1, round(fraction * length))
    starts = rng.integers(0, length - span + 1, size=n)
    positions = np.arange(length)
    rows = (positions >= starts[:, None]) & (positions < starts[:, None] + span)  # [n, length]
    return np.broadcast_to(rows.reshape(n, length, *([1] * (len(shape) - 2))), shape).copy()


def impute(reconstruct, inputs: np.ndarray, missing: np.ndarray, fill: np.ndarray, iterations: int):
    """Iterative model imputation (see module doc): inputs, missing [n, ...]; fill
    [...] the starting value per dimension. Returns the filled inputs [n, ...]."""
    filled = np.where(missing, fill, inputs)
    for _ in range(iterations):
        filled = np.where(missing, reconstruct(filled), inputs)
    return filled


@register_evaluator("imputation")
@options_class
class ImputationEvaluator(Evaluator):
    """Mean squared error over the missing values only: model_mse (iterative model
    filling), mean_fill_mse (training mean per dimension), and their ratio mse_ratio
    (below 1: the model beats mean filling).

    Options:
      mask: "random" or "block" (see `missing_mask`).
      fraction: the fraction of values (or of the first axis, for "block") missing.
      iterations: reconstruction passes of the model filling.
      fit_examples: training examples for the per-dimension mean.
      max_examples: the first this many evaluation examples (None: all).
    """

    mask: str = option("random", "which values go missing (see missing_mask)", choices=MASKS)
    fraction: float = option(
        0.5,
        "the fraction of values (or of the first axis, for block) missing",
        above=0.0,
        below=1.0,
    )
    iterations: int = option(10, "reconstruction passes of the model filling", minimum=1)
    fit_examples: int = option(10_000, "training examples for the per-dimension mean", minimum=1)
    max_examples: int | None = option(
        None, "the first this many evaluation examples (None: all)", minimum=1
    )

    def __call__(self, context) -> dict[str, float]:
        data = context.split("eval", labels=context.eval_labels(), max_examples=self.max_examples)
        train = context.split(
            "train", labels=context.train_labels(), max_examples=self.fit_examples
        )
        inputs = data.inputs
        missing = missing_mask(inputs.shape, self.mask, self.fraction, context.rng("imputation"))
        mean = train.inputs.mean(axis=0)
        filled = impute(context.model_calls.reconstruct, inputs, missing, mean, self.iterations)
        mean_filled = np.where(missing, mean, inputs)
        model_mse = float(np.mean((filled - inputs)[missing] ** 2))
        mean_fill_mse = float(np.mean((mean_filled - inputs)[missing] ** 2))
        return {
            "model_mse": model_mse,
            "mean_fill_mse": mean_fill_mse,
            "mse_ratio": model_mse / max(mean_fill_mse, 1e-12),
            "missing_fraction": float(missing.mean()),
        }
