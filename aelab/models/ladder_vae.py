"""A hierarchical VAE with top-down inference: the Ladder VAE (Sønderby et al., 2016) and
NVAE's residual posterior (Vahdat & Kautz, 2020), for the dense and conv families.

L stochastic layers z_1 (bottom) ... z_L (top). A bottom-up deterministic pass turns x
into features h_1 ... h_L (one stack of residual cells per layer). The generative model
runs top down through a deterministic state s, starting from a learned constant s_L:

  p(z_L) = N(0, I);  p(z_i | z_{>i}) = N(mu_p(s_i), sigma_p(s_i)) for i < L;
  s_{i-1} = cells_i(s_i + W_i z_i);  p(x | z) = head(s_0).

Inference shares that path (top-down inference): the posterior of each layer reads the
same state s_i, so q(z_i | z_{>i}, x) and p(z_i | z_{>i}) are computed side by side.
`merge` picks how they are tied:

- "residual" (NVAE): q = N(mu_p + dmu, sigma_p * dsigma), (dmu, log dsigma) a function
  of [s_i, h_i]; its heads start at zero, so training starts from q = p.
- "precision_weighted" (LVAE): a Gaussian N(mu_hat, sigma_hat) from h_i alone, merged
  with the prior by precisions: 1/sigma_q^2 = 1/sigma_hat^2 + 1/sigma_p^2,
  mu_q = sigma_q^2 (mu_hat / sigma_hat^2 + mu_p / sigma_p^2).

Each layer's KL(q(z_i | z_{>i}, x) || p(z_i | z_{>i})) is analytic given the upper
layers' samples; `kl_terms` gives one column per layer (free bits act per layer), and
their sum is an unbiased estimate of KL(q(z | x) || p(z)).

The code (`output.code`, `decode`'s input, `sample_prior`'s output) is all layers'
latents flattened and concatenated from the bottom: [batch, latent_dim] with latent_dim
the sum of the layers' sizes. `decode(code)` runs the top-down path with those latents.
The dense family's latents are vectors; the conv family's are feature maps at the
bottom-up pass's lowest resolution (`latent_dims` counts channels there).

`encode(x)` describes q along its mean path (each layer's posterior given the upper
layers' posterior means), which is what `model(x)` without rngs decodes. The inherited
`sample_posterior` draws independent Gaussians around that description, which is not
the hierarchical posterior; the objectives and evaluators that need posterior samples of
a model with several stochastic layers use `__call__` and `log_importance_weights`.

Options (`config.model`): `DenseLadderOptions` / `ConvLadderOptions` below.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
from flax import nnx

from aelab.core.contract import Encoding, ModelOutput
from aelab.core.distributions import gaussian_log_density
from aelab.core.options import option, options_class
from aelab.models.autoencoder import GaussianVAE
from aelab.models.conv import downsampled_size, image_shape_of
from aelab.models.convolutions import conv_layer
from aelab.models.layers import ACTIVATION_NAMES, Decoder, get_activation, upsample_nearest
from aelab.models.registry import ModelOptions, register_model

POSTERIORS = ("residual", "precision_weighted")


@options_class
class LadderOptions(ModelOptions):
    """What both families of ladder VAE share (`config.model`)."""

    num_latent_layers: int = option(5, "stochastic layers z_1 (bottom) ... z_L (top)", minimum=1)
    latent_dim: int = option(
        16,
        "size of each stochastic layer (conv: channels per position) unless latent_dims "
        "gives one per layer",
        minimum=1,
    )
    latent_dims: tuple[int, ...] = option(
        (),
        "sizes of the stochastic layers from the bottom, one per layer (empty: latent_dim each)",
        minimum=1,
    )
    cells_per_layer: int = option(
        1, "residual cells of each layer's bottom-up and top-down deterministic path", minimum=0
    )
    activation: str = option(
        "swish", "activation inside the residual cells", choices=ACTIVATION_NAMES, kind="activation"
    )
    # Not `posterior` (nor a name close to it): the VAE family's `posterior` (gaussian |
    # iaf) is another choice, and a leftover field of it would read as a typo of this one.
    merge: str = option(
        "residual",
        "how q(z_i | z_>i, x) is tied to p(z_i | z_>i): 'residual' (NVAE: q = N(mu_p + dmu, "
        "sigma_p * dsigma)) or 'precision_weighted' (LVAE's merge of a bottom-up Gaussian "
        "with the prior)",
        choices=POSTERIORS,
    )

    def check(self):
        if self.latent_dims and len(self.latent_dims) != self.num_latent_layers:
            yield (
                "latent_dims",
                f"has {len(self.latent_dims)} sizes for num_latent_layers="
                f"{self.num_latent_layers}; give one per layer, or () for latent_dim each",
            )

    def layer_sizes(self) -> tuple[int, ...]:
        """Latent size (conv: channels) of each layer, from the bottom."""
        return self.latent_dims or (self.latent_dim,) * self.num_latent_layers


@options_class
class DenseLadderOptions(LadderOptions):
    """`config.model` of dense_ladder_vae."""

    width: int = option(256, "width of the deterministic paths (bottom-up and top-down)", minimum=1)


@options_class
class ConvLadderOptions(LadderOptions):
    """`config.model` of conv_ladder_vae."""

    channels: tuple[int, ...] = option(
        (32, 64),
        "channels of the stride-2 stages from the input side (the last one is the width "
        "of the latent layers' paths); the output head mirrors them",
        minimum=1,
        min_length=1,
    )


class ResidualCell(nnx.Module):
    """x + f(x), f = layer(act(layer(act(x)))): [..., width] -> [..., width].

    `layer(in, out)` is a linear map (dense) or a 3x3 'SAME' convolution (conv); the
    second layer starts at zero, so every cell starts as the identity.
    """

    def __init__(self, width: int, make_layer: Callable, activation: str, *, rngs: nnx.Rngs):
        self.activation = get_activation(activation)
        self.first = make_layer(width, width, rngs=rngs)
        self.second = make_layer(width, width, rngs=rngs, zero_init=True)

    def __call__(self, x: jax.Array) -> jax.Array:
        return x + self.second(self.activation(self.first(self.activation(x))))


class CellStack(nnx.Module):
    """`depth` residual cells in sequence (identity when depth is 0)."""

    def __init__(self, depth: int, width: int, make_layer, activation: str, *, rngs: nnx.Rngs):
        self.cells = nnx.List(
            [ResidualCell(width, make_layer, activation, rngs=rngs) for _ in range(depth)]
        )

    def __call__(self, x: jax.Array) -> jax.Array:
        for cell in self.cells:
            x = cell(x)
        return x


def _dense_layer(in_features: int, out_features: int, *, rngs: nnx.Rngs, zero_init=False):
    init = {"kernel_init": nnx.initializers.zeros} if zero_init else {}
    return nnx.Linear(in_features, out_features, rngs=rngs, **init)


def _conv_layer(in_features: int, out_features: int, *, rngs: nnx.Rngs, zero_init=False):
    init = {"kernel_init": nnx.initializers.zeros} if zero_init else {}
    return conv_layer(in_features, out_features, (3, 3), padding="SAME", rngs=rngs, **init)


class DenseStem(nnx.Module):
    """Flattens [batch, *input_shape] and maps it to [batch, width]."""

    def __init__(self, input_shape: Sequence[int], width: int, *, rngs: nnx.Rngs):
        self.num_input_dims = len(input_shape)
        self.linear = nnx.Linear(math.prod(input_shape), width, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.linear(x.reshape((*x.shape[: x.ndim - self.num_input_dims], -1)))


class DenseHead(Decoder):
    """The top-down state [batch, width] -> p(x | z) parameters [batch, *output_shape]."""

    def __init__(self, width: int, output_shape: Sequence[int], activation: str, *, rngs):
        self.output_shape = tuple(output_shape)
        self.activation = get_activation(activation)
        self.linear = nnx.Linear(width, math.prod(output_shape), rngs=rngs)

    def __call__(self, s: jax.Array) -> jax.Array:
        y = self.linear(self.activation(s))
        return y.reshape(y.shape[:-1] + self.output_shape)


class ConvStem(nnx.Module):
    """Stride-2 3x3 convolutions: [batch, H, W, C] -> [batch, h, w, channels[-1]]."""

    def __init__(self, in_channels: int, channels: Sequence[int], activation: str, *, rngs):
        self.activation = get_activation(activation)
        sizes = [in_channels, *channels]
        self.convs = nnx.List(
            [
                conv_layer(a, b, (3, 3), strides=2, padding="SAME", rngs=rngs)
                for a, b in itertools.pairwise(sizes)
            ]
        )

    def __call__(self, x: jax.Array) -> jax.Array:
        for i, conv in enumerate(self.convs):
            x = conv(x)
            if i < len(self.convs) - 1:  # the last stage feeds the cells' pre-activation
                x = self.activation(x)
        return x


class ConvHead(Decoder):
    """The top-down state [batch, h, w, C] -> [batch, H, W, out_channels]: nearest x2
    upsampling then a 3x3 convolution per stage (regular convolutions only: transposed
    ones are slow on CPU, see docs/performance.md), a final 3x3 convolution, cropped."""

    def __init__(
        self, channels: Sequence[int], output_shape: Sequence[int], activation: str, *, rngs
    ):
        height, width, out_channels = image_shape_of(output_shape)
        self.output_hw = (height, width)
        self.activation = get_activation(activation)
        sizes = [*reversed(channels), channels[0]]
        self.ups = nnx.List(
            [
                conv_layer(a, b, (3, 3), padding="SAME", rngs=rngs)
                for a, b in itertools.pairwise(sizes)
            ]
        )
        self.out = conv_layer(sizes[-1], out_channels, (3, 3), padding="SAME", rngs=rngs)

    def __call__(self, s: jax.Array) -> jax.Array:
        x = s
        for up in self.ups:
            x = self.activation(up(upsample_nearest(self.activation(x))))
        height, width = self.output_hw
        # 'SAME' stride-2 stages round sizes up (28 -> 14 -> 7 -> 14 -> 28, 7 -> 4 -> 8).
        return self.out(x)[..., :height, :width, :]


def _split_gaussian(params: jax.Array) -> tuple[jax.Array, jax.Array]:
    mean, log_var = jnp.split(params, 2, axis=-1)
    return mean, log_var


def _gaussian_kl(
    q_mean: jax.Array, q_log_var: jax.Array, p_mean: jax.Array, p_log_var: jax.Array
) -> jax.Array:
    """KL(N(q_mean, e^q_log_var) || N(p_mean, e^p_log_var)) summed over all but the batch
    axis: [batch, ...] -> [batch]."""
    kl = 0.5 * (
        p_log_var
        - q_log_var
        + (jnp.exp(q_log_var) + (q_mean - p_mean) ** 2) * jnp.exp(-p_log_var)
        - 1.0
    )
    return kl.reshape(kl.shape[0], -1).sum(axis=-1)


class LadderVAE(GaussianVAE):
    """A hierarchical VAE with top-down inference (see the module docstring).

    Built from per-family parts: `stem` (x -> the width-wide features of the lowest
    layer), `head` (the final top-down state -> p(x | z) parameters) and `make_layer`
    (a linear map or a 3x3 convolution on the last axis); `state_shape` is one example's
    deterministic state ([width] or [h, w, channels]), `latent_shapes` each layer's
    latent shape from the bottom.
    """

    def __init__(
        self,
        stem: nnx.Module,
        head: nnx.Module,
        make_layer: Callable,
        state_shape: tuple[int, ...],
        latent_shapes: Sequence[tuple[int, ...]],
        options: LadderOptions,
        *,
        rngs: nnx.Rngs,
    ):
        width = state_shape[-1]
        self.stem, self.decoder = stem, head
        self.state_shape = tuple(state_shape)
        self.latent_shapes = tuple(tuple(s) for s in latent_shapes)
        self.latent_sizes = tuple(math.prod(s) for s in self.latent_shapes)
        self.latent_dim = sum(self.latent_sizes)
        self.num_stochastic_layers = len(self.latent_shapes)
        self.posterior = options.merge
        depth, activation = options.cells_per_layer, options.activation
        channels = [s[-1] for s in self.latent_shapes]
        self.activation = get_activation(activation)
        self.top_state = nnx.Param(jnp.zeros(self.state_shape))
        self.bottom_up = nnx.List(
            [CellStack(depth, width, make_layer, activation, rngs=rngs) for _ in channels]
        )
        self.top_down = nnx.List(
            [CellStack(depth, width, make_layer, activation, rngs=rngs) for _ in channels]
        )
        # The top layer's prior is N(0, I): no prior head there.
        self.prior_heads = nnx.List(
            [make_layer(width, 2 * c, rngs=rngs, zero_init=True) for c in channels[:-1]]
        )
        posterior_in = 2 * width if self.posterior == "residual" else width
        self.posterior_heads = nnx.List(
            [make_layer(posterior_in, 2 * c, rngs=rngs, zero_init=True) for c in channels]
        )
        self.latent_projections = nnx.List([make_layer(c, width, rngs=rngs) for c in channels])

    def _features(self, x: jax.Array) -> list[jax.Array]:
        """Bottom-up features h_1 ... h_L, each [batch, *state_shape]."""
        h = self.stem(x)
        features = []
        for cells in self.bottom_up:
            h = cells(h)
            features.append(h)
        return features

    def _posterior(self, i, s, h, p_mean, p_log_var):
        """q(z_i | z_>i, x)'s (mean, log_var) from the state s_i and the features h_i."""
        act = self.activation
        if self.posterior == "residual":
            d_mean, d_log_var = _split_gaussian(
                self.posterior_heads[i](jnp.concatenate([act(s), act(h)], axis=-1))
            )
            return p_mean + d_mean, p_log_var + d_log_var
        mean_hat, log_var_hat = _split_gaussian(self.posterior_heads[i](act(h)))
        log_var = -jnp.logaddexp(-log_var_hat, -p_log_var)
        mean = jnp.exp(log_var) * (mean_hat * jnp.exp(-log_var_hat) + p_mean * jnp.exp(-p_log_var))
        return mean, log_var

    def _top_down(
        self,
        batch: int,
        *,
        features: Sequence[jax.Array] | None = None,
        code: jax.Array | None = None,
        rngs: nnx.Rngs | None = None,
    ) -> tuple[jax.Array, list[dict]]:
        """The top-down pass over `batch` examples.

        With `features` (the bottom-up pass, [batch, *state_shape] each), each z_i is
        drawn from q (its mean when rngs is None); with `code` ([batch, latent_dim]) the
        given latents are used; with neither, z_i is drawn from the prior (its mean when
        rngs is None). Returns (the final state [batch, *state_shape], per layer from the
        bottom {"z", "p_mean", "p_log_var"} and, with features, "q_mean", "q_log_var").
        """
        s = jnp.broadcast_to(self.top_state[...], (batch, *self.state_shape))
        codes = None if code is None else self._split_code(code)
        layers = [None] * self.num_stochastic_layers
        for i in reversed(range(self.num_stochastic_layers)):
            shape = (batch, *self.state_shape[:-1], self.latent_shapes[i][-1])
            if i == self.num_stochastic_layers - 1:
                p_mean = jnp.zeros(shape, s.dtype)
                p_log_var = jnp.zeros(shape, s.dtype)
            else:
                p_mean, p_log_var = _split_gaussian(self.prior_heads[i](self.activation(s)))
            layer = {"p_mean": p_mean, "p_log_var": p_log_var}
            mean, log_var = p_mean, p_log_var
            if features is not None:
                mean, log_var = self._posterior(i, s, features[i], p_mean, p_log_var)
                layer.update(q_mean=mean, q_log_var=log_var)
            if codes is not None:
                z = codes[i]
            elif rngs is None:
                z = mean
            else:
                eps = jax.random.normal(rngs.sample(), mean.shape, mean.dtype)
                z = mean + jnp.exp(0.5 * log_var) * eps
            layer["z"] = z
            layers[i] = layer
            s = self.top_down[i](s + self.latent_projections[i](z))
        return s, layers

    def _split_code(self, code: jax.Array) -> list[jax.Array]:
        """[batch, latent_dim] -> each layer's latent [batch, *latent_shape], bottom first."""
        bounds = list(itertools.accumulate(self.latent_sizes))[:-1]
        parts = jnp.split(code, bounds, axis=-1)
        return [
            p.reshape(p.shape[0], *shape)
            for p, shape in zip(parts, self.latent_shapes, strict=True)
        ]

    @staticmethod
    def _join(parts: Sequence[jax.Array]) -> jax.Array:
        """Per-layer arrays [batch, ...] -> [batch, latent_dim], bottom first."""
        return jnp.concatenate([p.reshape(p.shape[0], -1) for p in parts], axis=-1)

    def _output(self, x: jax.Array, rngs: nnx.Rngs | None) -> ModelOutput:
        s, layers = self._top_down(x.shape[0], features=self._features(x), rngs=rngs)
        extras = {
            "p_mean": self._join([layer["p_mean"] for layer in layers]),
            "p_log_var": self._join([layer["p_log_var"] for layer in layers]),
        }
        encoding = Encoding(
            mean=self._join([layer["q_mean"] for layer in layers]),
            log_var=self._join([layer["q_log_var"] for layer in layers]),
            extras=extras,
        )
        code = self._join([layer["z"] for layer in layers])
        return ModelOutput(encoding=encoding, code=code, decoded=self.decoder(s))

    def encode(
        self, x: jax.Array, *, train: bool = False, rngs: nnx.Rngs | None = None
    ) -> Encoding:
        """q along its mean path: Encoding(mean, log_var), each [batch, latent_dim]
        (extras: the priors p(z_i | z_>i) on that path, "p_mean" and "p_log_var")."""
        return self._output(x, None).encoding

    def decode(
        self, z: jax.Array, *, train: bool = False, rngs: nnx.Rngs | None = None
    ) -> jax.Array:
        """p(x | z) parameters: the top-down pass with the latents of code z
        [batch, latent_dim] -> [batch, *output_shape]."""
        s, _ = self._top_down(z.shape[0], code=z)
        return self.decoder(s)

    def __call__(
        self, x: jax.Array, *, train: bool = False, rngs: nnx.Rngs | None = None
    ) -> ModelOutput:
        """Top-down inference: z_L, ..., z_1 drawn in turn from q (means without rngs),
        the last state decoded. x [batch, *input_shape]."""
        return self._output(x, rngs)

    def kl_terms(self, output: ModelOutput) -> jax.Array:
        """Each layer's analytic KL(q(z_i | z_>i, x) || p(z_i | z_>i)), given the upper
        layers' latents of this output: [batch, num_latent_layers], bottom first."""
        encoding, extras = output.encoding, output.encoding.extras
        columns = [
            _gaussian_kl(q_mean, q_log_var, p_mean, p_log_var)
            for q_mean, q_log_var, p_mean, p_log_var in zip(
                self._split_code(encoding.mean),
                self._split_code(encoding.log_var),
                self._split_code(extras["p_mean"]),
                self._split_code(extras["p_log_var"]),
                strict=True,
            )
        ]
        return jnp.stack(columns, axis=-1)

    def prior_parameters(self, code: jax.Array) -> tuple[jax.Array, jax.Array]:
        """The priors p(z_i | z_>i) along a code: (mean, log_var), each [batch,
        latent_dim] like `code` (layer i's slice depends on the layers above i only;
        the top layer's is N(0, I))."""
        _, layers = self._top_down(code.shape[0], code=code)
        return (
            self._join([layer["p_mean"] for layer in layers]),
            self._join([layer["p_log_var"] for layer in layers]),
        )

    def sample_prior(self, rngs: nnx.Rngs, num_samples: int) -> jax.Array:
        """Codes drawn ancestrally: z_L ~ N(0, I), then z_i ~ p(z_i | z_>i) down to z_1.
        [num_samples, latent_dim]."""
        _, layers = self._top_down(num_samples, rngs=rngs)
        return self._join([layer["z"] for layer in layers])

    def log_importance_weights(
        self,
        x: jax.Array,
        likelihood,
        *,
        rngs: nnx.Rngs,
        num_samples: int,
        train: bool = False,
    ) -> jax.Array:
        """log p(x, z) - log q(z | x) = log p(x | z) + sum_i [log p(z_i | z_>i) -
        log q(z_i | z_>i, x)] for k joint samples from the top-down posterior.

        Args:
          x: [batch, *data_shape]: encoder inputs and likelihood targets.
          likelihood: scores decoder outputs against x (`aelab.objectives.likelihoods`).
          num_samples: k.
        Returns:
          [num_samples, batch] log weights.
        """
        batch = x.shape[0]
        # The bottom-up pass runs once; the top-down pass once per sample.
        features = [
            jnp.broadcast_to(h, (num_samples, *h.shape)).reshape(num_samples * batch, *h.shape[1:])
            for h in self._features(x)
        ]
        s, layers = self._top_down(num_samples * batch, features=features, rngs=rngs)
        targets = jnp.broadcast_to(x, (num_samples, *x.shape)).reshape(-1, *x.shape[1:])
        log_w = likelihood.log_prob(self.decoder(s), targets)
        for layer in layers:
            flat = [
                layer[k].reshape(num_samples * batch, -1)
                for k in ("z", "p_mean", "p_log_var", "q_mean", "q_log_var")
            ]
            z, p_mean, p_log_var, q_mean, q_log_var = flat
            log_w = log_w + gaussian_log_density(z, p_mean, p_log_var)
            log_w = log_w - gaussian_log_density(z, q_mean, q_log_var)
        return log_w.reshape(num_samples, batch)


_TINY = {"num_latent_layers": 3, "latent_dims": (4, 3, 2), "cells_per_layer": 1}
# As for the families' flexible decoders (aelab.models.families): with beta = 1 the
# tiny model's posteriors barely open on the tests' 16-example batch of grey levels.
_TINY_OBJECTIVE = {"name": "elbo", "beta": 0.1}


@register_model(
    "dense_ladder_vae",
    options=DenseLadderOptions,
    tiny_fields={**_TINY, "width": 16},
    objective=_TINY_OBJECTIVE,
)
def build_dense_ladder_vae(
    options: DenseLadderOptions, input_shape, output_shape, rngs: nnx.Rngs
) -> LadderVAE:
    """A ladder VAE whose paths are width-wide vectors and whose latents are vectors."""
    width = options.width
    return LadderVAE(
        DenseStem(input_shape, width, rngs=rngs),
        DenseHead(width, output_shape, options.activation, rngs=rngs),
        _dense_layer,
        (width,),
        [(size,) for size in options.layer_sizes()],
        options,
        rngs=rngs,
    )


@register_model(
    "conv_ladder_vae",
    options=ConvLadderOptions,
    tiny_fields={**_TINY, "channels": (8, 8)},
    objective=_TINY_OBJECTIVE,
)
def build_conv_ladder_vae(
    options: ConvLadderOptions, input_shape, output_shape, rngs: nnx.Rngs
) -> LadderVAE:
    """A ladder VAE whose paths and latents are feature maps at the stem's resolution
    (H and W halved per stage of `channels`)."""
    height, width, in_channels = image_shape_of(input_shape)
    stages = len(options.channels)
    h, w = downsampled_size(height, stages), downsampled_size(width, stages)
    return LadderVAE(
        ConvStem(in_channels, options.channels, options.activation, rngs=rngs),
        ConvHead(options.channels, output_shape, options.activation, rngs=rngs),
        _conv_layer,
        (h, w, options.channels[-1]),
        [(h, w, c) for c in options.layer_sizes()],
        options,
        rngs=rngs,
    )
