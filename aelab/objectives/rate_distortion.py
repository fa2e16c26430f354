"""The rate-distortion objective of learned codecs: loss = R + lambda * D.

R is the rate in bits per pixel, -log2 P(y_hat) / (height * width), from the model's own
entropy model (`CompressionModel.rate_bits`); D is 255^2 times the mean squared error of
the reconstruction on data in [0, 1] (`distortion="mse"`), so that `lmbda` means what it
means in the learned-compression literature (CompressAI's ladder 0.0018 ... 0.0483 spans
about 0.1 to 1 bpp on natural images), or 1 - MS-SSIM (`distortion="ms_ssim"`, with
lambdas of a few to a few hundred).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from flax import nnx

from aelab.core.contract import require_compression_model
from aelab.core.options import option, options_class
from aelab.objectives.base import Metrics, Objective, ObjectiveOptions, targets_of
from aelab.objectives.likelihoods import SquaredError
from aelab.objectives.registry import register_objective
from aelab.objectives.structural_similarity import ms_ssim


@options_class
class RateDistortionOptions(ObjectiveOptions):
    """`config.objective` of "rate_distortion"."""

    lmbda: float = option(
        0.01,
        "lambda: weight of the distortion 255^2 * MSE against the rate in bits per pixel "
        "(larger: higher quality, more bits)",
        above=0.0,
    )
    distortion: str = option(
        "mse",
        "D: 'mse' (255^2 times the mean squared error) or 'ms_ssim' (1 - MS-SSIM, as many "
        "scales as the images hold)",
        choices=("mse", "ms_ssim"),
    )


def pixels_per_example(shape) -> int:
    """Pixels of one example: height * width for images [h, w, c], else all values."""
    return math.prod(shape[:-1]) if len(shape) == 3 else math.prod(shape)


@register_objective("rate_distortion", options=RateDistortionOptions)
class RateDistortionObjective(Objective):
    """loss = bits per pixel + lmbda * 255^2 * MSE, per example (see module docstring).

    Metrics: "bits" (per example), "bpp", "distortion" (255^2 * MSE) besides "loss" and
    "mse".
    """

    likelihoods = ("mse",)
    model_kind = "compression"

    def __init__(self, likelihood, *, lmbda: float = 0.01, distortion: str = "mse", **kwargs):
        if not isinstance(likelihood, SquaredError):
            raise ValueError(
                "The rate_distortion objective measures distortion as squared error; set "
                "config.objective.likelihood='mse'."
            )
        super().__init__(likelihood, **kwargs)
        self.lmbda = lmbda
        self.distortion = distortion

    def per_example_terms(
        self, model: nnx.Module, batch: dict, *, rngs: nnx.Rngs | None, train: bool, step: jax.Array
    ) -> tuple[Metrics, jax.Array]:
        require_compression_model(model, "The rate_distortion objective")
        targets = targets_of(batch)
        output = model(batch["inputs"], train=train, rngs=rngs)
        rate = model.rate_bits(output)
        bpp = rate / pixels_per_example(targets.shape[1:])
        terms = {"bits": rate, "bpp": bpp}
        if self.distortion == "ms_ssim":
            terms["ms_ssim"] = ms_ssim(output.decoded, targets)
            distortion = 1.0 - terms["ms_ssim"]
        else:
            squared = jnp.square(output.decoded - targets).reshape(targets.shape[0], -1)
            distortion = 255.0**2 * squared.mean(axis=-1)
        terms["distortion"] = distortion
        terms["loss"] = bpp + self.lmbda * distortion
        return terms, output.decoded
