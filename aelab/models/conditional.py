"""Conditional autoencoders and VAEs: a side input c [batch, condition_dim] (a one-hot
class label, or any vector) read by both the encoder and the decoder, q(z | x, c) and
p(x | z, c).

`config.model.conditioning` (the dense and conv families) picks how c enters:

- "concat": appended to the encoder's input (flattened inputs for dense, constant
  feature maps for conv: one channel per condition value) and to the decoder's code;
- "film": feature-wise linear modulation (Perez et al., 2018) of every hidden layer of
  both networks, h -> h * (1 + gamma(c)) + beta(c), gamma and beta linear in c and
  initialised to zero (so training starts from the unconditional network).

The prior stays p(z) = N(0, I) (or a learned mixture): a conditional VAE samples a class
by drawing z from the prior and decoding it under that class's c. The models declare
the `ConditionalModel` hooks of `aelab.core.contract`; the train and evaluation steps
bind each batch's condition (`bind_condition`), so objectives need no change.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from aelab.core.options import option, options_class
from aelab.models.autoencoder import Autoencoder, GaussianVAE
from aelab.models.registry import ModelOptions

CONDITIONING_MODES = ("none", "concat", "film")


@options_class
class ConditioningOptions(ModelOptions):
    """`config.model` options of a side input read by the encoder and the decoder."""

    conditioning: str = option(
        "none",
        "how the side input c (one-hot batch['label'], or batch['condition']) enters the "
        "encoder and decoder: none, concat (to the inputs and the code) or film (scale "
        "and shift of every hidden layer)",
        choices=CONDITIONING_MODES,
    )
    condition_dim: int = option(
        10, "size of c: the number of classes of a one-hot label", minimum=1
    )


def require_unconditioned(options: ConditioningOptions, model: str) -> None:
    """Raises a ValueError naming `model` when `options` ask for a side input (for the
    models built on a conditional family's options that do not read one)."""
    if options.conditioning != "none":
        raise ValueError(
            f"{model} does not read a side input: set config.model.conditioning='none' "
            "(conditional models: dense_ae, dense_vae, conv_ae, conv_vae)."
        )


def concat_width(options: ConditioningOptions) -> int:
    """Values the side input adds to a network's input under "concat" (else 0)."""
    return options.condition_dim if options.conditioning == "concat" else 0


def film_layers(options: ConditioningOptions, widths, *, rngs: nnx.Rngs) -> nnx.List:
    """One `FiLM` per hidden layer of the given widths under "film"; else empty."""
    if options.conditioning != "film":
        return nnx.List([])
    return nnx.List([FiLM(options.condition_dim, w, rngs=rngs) for w in widths])


class FiLM(nnx.Module):
    """h [batch, ..., features] -> h * (1 + gamma(c)) + beta(c), with (gamma, beta) a
    linear map of c [batch, condition_dim] (zero at initialisation: identity), broadcast
    over the positions of h."""

    def __init__(self, condition_dim: int, features: int, *, rngs: nnx.Rngs):
        zeros = nnx.initializers.zeros_init()
        self.linear = nnx.Linear(condition_dim, 2 * features, kernel_init=zeros, rngs=rngs)

    def __call__(self, h: jax.Array, condition: jax.Array) -> jax.Array:
        gamma, beta = jnp.split(self.linear(condition), 2, axis=-1)
        shape = (gamma.shape[0], *([1] * (h.ndim - 2)), gamma.shape[-1])
        return h * (1.0 + gamma.reshape(shape)) + beta.reshape(shape)


def modulate(films: nnx.List, index: int, h: jax.Array, condition: jax.Array | None):
    """h modulated by the `index`-th FiLM layer when there are FiLM layers."""
    if not films:
        return h
    if condition is None:
        raise ValueError(
            "This network is conditional (config.model.conditioning='film') and was called "
            "without a condition."
        )
    return films[index](h, condition)


def with_condition_channels(x: jax.Array, condition: jax.Array | None, width: int):
    """Image features x [batch, H, W, C] with c broadcast as `width` constant channels
    appended (concat conditioning); x itself when width is 0."""
    if not width:
        return x
    if condition is None:
        raise ValueError(
            "This network is conditional (config.model.conditioning='concat') and was called "
            "without a condition."
        )
    maps = jnp.broadcast_to(condition[:, None, None, :], (*x.shape[:-1], condition.shape[-1]))
    return jnp.concatenate([x, maps.astype(x.dtype)], axis=-1)


def with_condition_values(v: jax.Array, condition: jax.Array | None, width: int):
    """Vectors v [batch, d] with c appended (concat conditioning); v itself when width
    is 0."""
    if not width:
        return v
    if condition is None:
        raise ValueError(
            "This network is conditional (config.model.conditioning='concat') and was called "
            "without a condition."
        )
    return jnp.concatenate([v, condition.astype(v.dtype)], axis=-1)


class ConditionalAutoencoder(Autoencoder):
    """An `Autoencoder` whose encoder and decoder read a side input; `conditioned(c)`
    binds it (`aelab.core.contract.ConditionalModel`)."""

    def __init__(self, encoder, decoder, latent_dim: int, *, condition_dim: int):
        super().__init__(encoder, decoder, latent_dim)
        self.condition_dim = condition_dim

    def conditioned(self, condition: jax.Array) -> Conditioned:
        """The model with condition [batch, condition_dim] bound."""
        return Conditioned(self, condition)


class ConditionalGaussianVAE(GaussianVAE):
    """A `GaussianVAE` with q(z | x, c) and p(x | z, c); the prior does not read c."""

    def __init__(self, encoder, decoder, latent_dim: int, *, condition_dim: int, **kwargs):
        super().__init__(encoder, decoder, latent_dim, **kwargs)
        self.condition_dim = condition_dim

    def conditioned(self, condition: jax.Array) -> ConditionedVAE:
        """The model with condition [batch, condition_dim] bound."""
        return ConditionedVAE(self, condition)


class Conditioned(nnx.Module):
    """A conditional model with the condition of one batch bound: the plain `Model`
    contract, each call handing `condition` [batch, condition_dim] on. A transient view
    built inside a step; the model's variables are those of `model`."""

    def __init__(self, model: ConditionalAutoencoder, condition: jax.Array):
        self.model = model
        self.condition = condition
        self.latent_dim = model.latent_dim

    def encode(self, x, *, train: bool = False, rngs: nnx.Rngs | None = None):
        return self.model.encode(x, train=train, rngs=rngs, condition=self.condition)

    def decode(self, z, *, train: bool = False, rngs: nnx.Rngs | None = None):
        return self.model.decode(z, train=train, rngs=rngs, condition=self.condition)

    def reconstruct(self, z, x, *, train: bool, rngs: nnx.Rngs | None):
        return self.model.reconstruct(z, x, train=train, rngs=rngs, condition=self.condition)

    def __call__(self, x, *, train: bool = False, rngs: nnx.Rngs | None = None):
        return self.model(x, train=train, rngs=rngs, condition=self.condition)


class ConditionedVAE(Conditioned):
    """`Conditioned` for a conditional VAE: also the latent-variable hooks."""

    def __init__(self, model: ConditionalGaussianVAE, condition: jax.Array):
        super().__init__(model, condition)
        self.num_stochastic_layers = model.num_stochastic_layers
        self.analytic_kl = model.analytic_kl
        self.prior = model.prior
        self.flow = model.flow

    def sample_posterior(self, encoding, rngs: nnx.Rngs, num_samples=None):
        return self.model.sample_posterior(encoding, rngs, num_samples)

    def sample_prior(self, rngs: nnx.Rngs, num_samples: int):
        return self.model.sample_prior(rngs, num_samples)

    def prior_log_prob(self, z):
        return self.model.prior_log_prob(z)

    def kl_terms(self, output):
        return self.model.kl_terms(output)

    def log_importance_weights(self, x, likelihood, *, rngs, num_samples, train=False):
        return self.model.log_importance_weights(
            x,
            likelihood,
            rngs=rngs,
            num_samples=num_samples,
            train=train,
            condition=self.condition,
        )
