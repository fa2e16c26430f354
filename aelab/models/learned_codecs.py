"""Compressive autoencoders trained for rate-distortion: the factorized-prior model of
Ballé et al. (2017) and the scale-hyperprior model of Ballé et al. (2018).

An analysis transform maps an image x to a latent y; y is quantized to integers (during
training: additive uniform noise, its differentiable stand-in); a learned probability
model gives the bits an entropy coder spends on the quantized latent; the synthesis
transform decodes it. The objective "rate_distortion" trains R + lambda * D, reading the
rate through `rate_bits` (the model contract's `CompressionModel`), and `aelab.codec`
turns a trained model into real bitstreams.

- factorized_prior: P(y_hat) = prod_i P_c(i)(y_hat_i), one learned non-parametric
  density per latent channel (`FactorizedDensity`).
- scale_hyperprior: side information z = h_a(|y|), coded with a factorized density,
  gives each latent its own scale: P(y_hat | z_hat) = prod_i N(0, sigma_i^2) * U(-1/2,
  1/2) at y_hat_i, sigma = h_s(z_hat).

For "conv" and "residual" transforms `latent_dim` is the number of latent channels C
(y is [H / 2^s, W / 2^s, C] for s = len(channels) stages); for "dense" it is the length
of the flat code.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from flax import nnx

from aelab.core.contract import Encoding, ModelOutput
from aelab.core.options import option, options_class
from aelab.models.codec_transforms import (
    TRANSFORMS,
    ConvAnalysis,
    ConvSynthesis,
    DenseAnalysis,
    DenseHyperAnalysis,
    DenseHyperSynthesis,
    DenseSynthesis,
    SpatialHyperAnalysis,
    SpatialHyperSynthesis,
    spatial_latent_shape,
)
from aelab.models.entropy_models import FactorizedDensity, bits, gaussian_bin_probability
from aelab.models.registry import ModelOptions, register_model

QUANTIZATION_MODES = ("noise", "straight_through")
# The least scale of the hyperprior's Gaussians (Ballé et al.'s 0.11): below it the bin
# probability of 0 is ~1 anyway, and it keeps the scale tables of the coder finite.
SCALE_MIN = 0.11


@options_class
class CodecOptions(ModelOptions):
    """`config.model` of factorized_prior and scale_hyperprior."""

    latent_dim: int = option(
        32,
        "latent channels C for conv / residual transforms (y is [H/2^s, W/2^s, C]); the "
        "flat code's length for dense",
        minimum=1,
    )
    transform: str = option("conv", "analysis / synthesis transforms", choices=TRANSFORMS)
    channels: tuple[int, ...] = option(
        (64, 64),
        "conv / residual: channels of each stride-2 stage; dense: hidden layer widths",
        minimum=1,
        min_length=1,
    )
    quantization: str = option(
        "noise",
        "training's stand-in for rounding: 'noise' (additive uniform noise everywhere) or "
        "'straight_through' (the synthesis sees rounded latents with straight-through "
        "gradients, the rate the noisy ones)",
        choices=QUANTIZATION_MODES,
    )
    density_filters: tuple[int, ...] = option(
        (3, 3, 3), "hidden widths of each channel's learned density", minimum=1, min_length=1
    )
    output: str = option(
        "linear",
        "the synthesis output: 'linear' (unconstrained, as Ballé et al.) or 'sigmoid' "
        "(inside (0, 1): no capacity spent on values the 8-bit image clips anyway)",
        choices=("linear", "sigmoid"),
    )
    hyper_channels: int = option(
        32, "scale_hyperprior: channels (dense: length) of the side information z", minimum=1
    )


def _quantize(
    values: jax.Array, *, train: bool, mode: str, rngs: nnx.Rngs | None
) -> tuple[jax.Array, jax.Array]:
    """(what the rate is computed on, what the synthesis decodes), both like `values`."""
    if not train:
        rounded = jnp.round(values)
        return rounded, rounded
    if rngs is None:
        raise ValueError("Training a compressive model needs rngs for its quantization noise.")
    noisy = values + jax.random.uniform(rngs.sample(), values.shape, values.dtype, -0.5, 0.5)
    if mode == "noise":
        return noisy, noisy
    return noisy, values + jax.lax.stop_gradient(jnp.round(values) - values)


class FactorizedPriorCodec(nnx.Module):
    """Ballé et al. (2017): y = g_a(x), y_hat = round(y), x_hat = g_s(y_hat), with a
    learned factorized density of y_hat per channel.

    Contract: `CompressionModel` (aelab.core.contract). `encode(x).mean` is y before
    quantization [batch, *latent_shape]; `__call__` quantizes (noise in training, rounding
    otherwise) and decodes; `rate_bits(output)` is -log2 P(y_hat) per example.
    """

    num_hyper_stages = 0

    def __init__(self, analysis, synthesis, density, latent_shape, quantization: str, output: str):
        self.analysis, self.synthesis, self.density = analysis, synthesis, density
        self.sigmoid_output = output == "sigmoid"
        self.latent_shape = tuple(latent_shape)
        self.latent_dim = math.prod(latent_shape)
        self.quantization = quantization

    def encode(self, x: jax.Array, *, train: bool = False, rngs: nnx.Rngs | None = None):
        """x [batch, *input_shape] -> Encoding(mean=y [batch, *latent_shape])."""
        return Encoding(mean=self.analysis(x))

    def decode(self, z: jax.Array, *, train: bool = False, rngs: nnx.Rngs | None = None):
        """y_hat [batch, *latent_shape] -> x_hat [batch, *output_shape]."""
        decoded = self.synthesis(z)
        return jax.nn.sigmoid(decoded) if self.sigmoid_output else decoded

    def reconstruct(self, z, x, *, train: bool, rngs: nnx.Rngs | None):
        return self.decode(z, train=train, rngs=rngs)

    def density_logits_cdf(self, values: jax.Array) -> jax.Array:
        """Logits of the factorized density's CDF at `values` [..., C] (the density of
        y_hat here; of the side information z_hat in the hyperprior model)."""
        return self.density.logits_cdf(values)

    def __call__(self, x: jax.Array, *, train: bool = False, rngs: nnx.Rngs | None = None):
        y = self.analysis(x)
        for_rate, for_synthesis = _quantize(y, train=train, mode=self.quantization, rngs=rngs)
        encoding = Encoding(mean=y, extras={"rate_code": for_rate})
        return ModelOutput(
            encoding=encoding, code=for_synthesis, decoded=self.decode(for_synthesis)
        )

    def rate_bits(self, output: ModelOutput) -> jax.Array:
        """-log2 P(y_hat) of each example: [batch] bits."""
        return bits(self.density.bin_probability(output.encoding.extras["rate_code"]))


class ScaleHyperpriorCodec(FactorizedPriorCodec):
    """Ballé et al. (2018): side information z = h_a(|y|) with a factorized density, and
    y_hat ~ N(0, sigma^2) * U(-1/2, 1/2), sigma = max(h_s(z_hat), SCALE_MIN).

    `rate_bits` counts both: -log2 P(y_hat | z_hat) - log2 P(z_hat).
    """

    num_hyper_stages = 1

    def __init__(
        self,
        analysis,
        synthesis,
        density,
        latent_shape,
        quantization,
        output,
        hyper_analysis,
        hyper_synthesis,
    ):
        super().__init__(analysis, synthesis, density, latent_shape, quantization, output)
        self.hyper_analysis, self.hyper_synthesis = hyper_analysis, hyper_synthesis

    def side_information(self, y: jax.Array) -> jax.Array:
        """z = h_a(|y|): [batch, *latent_shape] -> [batch, *side_shape]."""
        return self.hyper_analysis(y)

    def conditional_scales(self, z_hat: jax.Array) -> jax.Array:
        """sigma of each latent given the quantized side information: [batch,
        *latent_shape]."""
        return jnp.maximum(jax.nn.softplus(self.hyper_synthesis(z_hat)), SCALE_MIN)

    def __call__(self, x: jax.Array, *, train: bool = False, rngs: nnx.Rngs | None = None):
        y = self.analysis(x)
        z_rate, z_hat = _quantize(
            self.side_information(y), train=train, mode=self.quantization, rngs=rngs
        )
        scales = self.conditional_scales(z_hat)
        y_rate, y_hat = _quantize(y, train=train, mode=self.quantization, rngs=rngs)
        encoding = Encoding(
            mean=y, extras={"rate_code": y_rate, "side_code": z_rate, "scales": scales}
        )
        return ModelOutput(encoding=encoding, code=y_hat, decoded=self.decode(y_hat))

    def rate_bits(self, output: ModelOutput) -> jax.Array:
        extras = output.encoding.extras
        latent = bits(gaussian_bin_probability(extras["rate_code"], extras["scales"]))
        return latent + bits(self.density.bin_probability(extras["side_code"]))


def _transforms(options: CodecOptions, input_shape, output_shape, rngs):
    if options.transform == "dense":
        latent_shape = (options.latent_dim,)
        analysis = DenseAnalysis(
            math.prod(input_shape), options.channels, options.latent_dim, rngs=rngs
        )
        synthesis = DenseSynthesis(options.latent_dim, options.channels, output_shape, rngs=rngs)
        return analysis, synthesis, latent_shape
    if len(input_shape) != 3:
        raise ValueError(
            f"transform={options.transform!r} takes images [height, width, channels]; got "
            f"examples of shape {tuple(input_shape)}. Use transform='dense'."
        )
    residual = options.transform == "residual"
    latent_shape = spatial_latent_shape(input_shape, len(options.channels), options.latent_dim)
    analysis = ConvAnalysis(
        input_shape[-1], options.channels, options.latent_dim, residual=residual, rngs=rngs
    )
    synthesis = ConvSynthesis(
        options.latent_dim, options.channels, output_shape, residual=residual, rngs=rngs
    )
    return analysis, synthesis, latent_shape


_TINY = {"latent_dim": 4, "channels": (8,), "hyper_channels": 4}
_TINY_OBJECTIVE = {"name": "rate_distortion", "likelihood": "mse", "lmbda": 0.01}


@register_model(
    "factorized_prior", options=CodecOptions, tiny_fields=_TINY, objective=_TINY_OBJECTIVE
)
def build_factorized_prior(options: CodecOptions, input_shape, output_shape, rngs):
    analysis, synthesis, latent_shape = _transforms(options, input_shape, output_shape, rngs)
    density = FactorizedDensity(latent_shape[-1], filters=options.density_filters, rngs=rngs)
    return FactorizedPriorCodec(
        analysis, synthesis, density, latent_shape, options.quantization, options.output
    )


@register_model(
    "scale_hyperprior", options=CodecOptions, tiny_fields=_TINY, objective=_TINY_OBJECTIVE
)
def build_scale_hyperprior(options: CodecOptions, input_shape, output_shape, rngs):
    analysis, synthesis, latent_shape = _transforms(options, input_shape, output_shape, rngs)
    if options.transform == "dense":
        hyper_analysis = DenseHyperAnalysis(options.latent_dim, options.hyper_channels, rngs=rngs)
        hyper_synthesis = DenseHyperSynthesis(options.hyper_channels, options.latent_dim, rngs=rngs)
    else:
        hyper_analysis = SpatialHyperAnalysis(options.latent_dim, options.hyper_channels, rngs=rngs)
        hyper_synthesis = SpatialHyperSynthesis(options.hyper_channels, latent_shape, rngs=rngs)
    density = FactorizedDensity(options.hyper_channels, filters=options.density_filters, rngs=rngs)
    return ScaleHyperpriorCodec(
        analysis,
        synthesis,
        density,
        latent_shape,
        options.quantization,
        options.output,
        hyper_analysis,
        hyper_synthesis,
    )
