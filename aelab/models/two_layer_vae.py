"""A VAE with two stochastic layers: the second architecture of the IWAE paper.

Burda, Grosse and Salakhutdinov (2016), "Importance weighted autoencoders", section 5:
x -> 200 -> 200 -> z1 (100) -> 100 -> 100 -> z2 (50) with tanh hidden units, the
generative model mirroring it:

  p(z2) = N(0, I),  p(z1 | z2) = N(mu(z2), sigma(z2)),  p(x | z1) from the decoder;
  q(z1 | x) = N(mu(x), sigma(x)),  q(z2 | z1) = N(mu(z1), sigma(z1)).

The model's code is z1 (what the decoder of x reads); `sample_prior` draws it
ancestrally through z2. Its KL term has no closed form, so `kl_terms` gives the
single-sample Monte-Carlo estimate per stochastic layer, and `log_importance_weights`
gives log p(x, z1, z2) - log q(z1, z2 | x) for k joint samples, which is what the IWAE
bound and importance-sampled likelihoods need.

Options (`config.model`): `TwoLayerOptions` below.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from aelab.core.contract import Encoding, ModelOutput
from aelab.core.distributions import gaussian_log_density, standard_normal_log_density
from aelab.core.options import option, options_class
from aelab.models.autoencoder import GaussianVAE
from aelab.models.conditional import require_unconditioned
from aelab.models.dense import MLP, DenseDecoder, DenseEncoder, DenseOptions
from aelab.models.layers import ACTIVATION_NAMES
from aelab.models.registry import register_model


@options_class
class TwoLayerOptions(DenseOptions):
    """`config.model` of dense_2layer_vae: the dense options for x <-> z1, plus z1 <-> z2."""

    hidden_dims: tuple[int, ...] = option(
        (200, 200), "hidden sizes between x and z1 (the decoder of x mirrors them)", minimum=1
    )
    activation: str = option(
        "tanh", "activation of every hidden layer", choices=ACTIVATION_NAMES, kind="activation"
    )
    top_hidden_dims: tuple[int, ...] = option(
        (100, 100), "hidden sizes between z1 and z2 (mirrored from z2 down)", minimum=1
    )
    top_latent_dim: int = option(50, "size of the upper latent z2", minimum=1)


def _gaussian(params: jax.Array) -> tuple[jax.Array, jax.Array]:
    mean, log_var = jnp.split(params, 2, axis=-1)
    return mean, log_var


def _sample(mean: jax.Array, log_var: jax.Array, rngs: nnx.Rngs | None) -> jax.Array:
    """A reparameterised sample, or the mean when there is no randomness."""
    if rngs is None:
        return mean
    eps = jax.random.normal(rngs.sample(), mean.shape, mean.dtype)
    return mean + jnp.exp(0.5 * log_var) * eps


class TwoLayerVAE(GaussianVAE):
    """Two Gaussian stochastic layers z1 (the code, `latent_dim`) and z2
    (`top_latent_dim`).

    `encoder`: x -> 2 * latent_dim (q(z1|x)); `decoder`: z1 -> p(x|z1) parameters;
    `top_encoder`: z1 -> 2 * top_latent_dim (q(z2|z1)); `top_decoder`:
    z2 -> 2 * latent_dim (p(z1|z2)).
    """

    num_stochastic_layers = 2

    def __init__(
        self,
        encoder: nnx.Module,
        decoder: nnx.Module,
        latent_dim: int,
        top_encoder: nnx.Module,
        top_decoder: nnx.Module,
        top_latent_dim: int,
    ):
        super().__init__(encoder, decoder, latent_dim)
        self.top_encoder = top_encoder
        self.top_decoder = top_decoder
        self.top_latent_dim = top_latent_dim

    def __call__(
        self, x: jax.Array, *, train: bool = False, rngs: nnx.Rngs | None = None
    ) -> ModelOutput:
        """Samples z1 ~ q(z1|x) and z2 ~ q(z2|z1) (means when `rngs` is None) and decodes
        z1. `encoding.extras` holds z2 and the Gaussians q(z2|z1) and p(z1|z2)."""
        encoding = self.encode(x, train=train, rngs=rngs)
        z1 = _sample(encoding.mean, encoding.log_var, rngs)
        top_mean, top_log_var = _gaussian(self.top_encoder(z1, train=train, rngs=rngs))
        z2 = _sample(top_mean, top_log_var, rngs)
        prior_mean, prior_log_var = _gaussian(self.top_decoder(z2, train=train, rngs=rngs))
        extras = {
            "z2": z2,
            "top_mean": top_mean,
            "top_log_var": top_log_var,
            "prior_mean": prior_mean,
            "prior_log_var": prior_log_var,
        }
        return ModelOutput(
            encoding=Encoding(mean=encoding.mean, log_var=encoding.log_var, extras=extras),
            code=z1,
            decoded=self.reconstruct(z1, x, train=train, rngs=rngs),
        )

    def kl_terms(self, output: ModelOutput) -> jax.Array:
        """Single-sample estimates of each layer's KL term: [batch, 2].

        Column 0: log q(z1|x) - log p(z1|z2); column 1: log q(z2|z1) - log p(z2). Their
        sum is an unbiased estimate of KL(q(z1, z2 | x) || p(z1, z2)).
        """
        encoding, extras = output.encoding, output.encoding.extras
        z1, z2 = output.code, extras["z2"]
        log_q_z1 = gaussian_log_density(z1, encoding.mean, encoding.log_var)
        log_p_z1 = gaussian_log_density(z1, extras["prior_mean"], extras["prior_log_var"])
        log_q_z2 = gaussian_log_density(z2, extras["top_mean"], extras["top_log_var"])
        lower = log_q_z1 - log_p_z1
        upper = log_q_z2 - standard_normal_log_density(z2)
        return jnp.stack([lower, upper], axis=-1)

    def sample_prior(self, rngs: nnx.Rngs, num_samples: int) -> jax.Array:
        """Codes z1 drawn ancestrally: z2 ~ N(0, I), z1 ~ p(z1|z2). [num_samples, latent_dim]."""
        z2 = jax.random.normal(rngs.sample(), (num_samples, self.top_latent_dim))
        mean, log_var = _gaussian(self.top_decoder(z2, train=False, rngs=None))
        return _sample(mean, log_var, rngs)

    def log_importance_weights(
        self,
        x: jax.Array,
        likelihood,
        *,
        rngs: nnx.Rngs,
        num_samples: int,
        train: bool = False,
    ) -> jax.Array:
        """log p(x, z1, z2) - log q(z1, z2 | x) for k joint posterior samples.

        Args:
          x: [batch, *data_shape]: encoder inputs and likelihood targets.
          likelihood: scores decoder outputs against x (`aelab.objectives.likelihoods`).
          num_samples: k.
        Returns:
          [num_samples, batch] log weights.
        """
        encoding = self.encode(x, train=train, rngs=rngs)
        z1 = self.sample_posterior(encoding, rngs, num_samples)  # [k, b, d1]
        k, batch = z1.shape[:2]
        flat_z1 = z1.reshape(k * batch, -1)
        top_mean, top_log_var = _gaussian(self.top_encoder(flat_z1, train=train, rngs=rngs))
        z2 = _sample(top_mean, top_log_var, rngs)
        prior_mean, prior_log_var = _gaussian(self.top_decoder(z2, train=train, rngs=rngs))
        decoded = self.decode(flat_z1, train=train, rngs=rngs)
        targets = jnp.broadcast_to(x, (k, *x.shape)).reshape(k * batch, *x.shape[1:])
        log_px = likelihood.log_prob(decoded, targets)
        log_p_z1 = gaussian_log_density(flat_z1, prior_mean, prior_log_var)
        log_q_z1 = gaussian_log_density(z1, encoding.mean, encoding.log_var).reshape(-1)
        log_pz = log_p_z1 + standard_normal_log_density(z2)
        log_qz = log_q_z1 + gaussian_log_density(z2, top_mean, top_log_var)
        return (log_px + log_pz - log_qz).reshape(k, batch)


def build_top_layers(
    options: TwoLayerOptions, latent_dim: int, rngs: nnx.Rngs
) -> tuple[MLP, MLP, int]:
    """(q(z2|z1) network, p(z1|z2) network, top_latent_dim) from the model's options."""
    top_latent = options.top_latent_dim
    hidden = options.top_hidden_dims
    activation = options.activation
    top_encoder = MLP(latent_dim, hidden, 2 * top_latent, activation=activation, rngs=rngs)
    top_decoder = MLP(
        top_latent, tuple(reversed(hidden)), 2 * latent_dim, activation=activation, rngs=rngs
    )
    return top_encoder, top_decoder, top_latent


_TINY = {"hidden_dims": (16,), "latent_dim": 4, "top_hidden_dims": (8,), "top_latent_dim": 2}


@register_model("dense_2layer_vae", options=TwoLayerOptions, tiny_fields=_TINY, objective="elbo")
def build_dense_2layer_vae(
    options: TwoLayerOptions, input_shape, output_shape, rngs: nnx.Rngs
) -> TwoLayerVAE:
    """The IWAE paper's two-stochastic-layer MLP VAE."""
    require_unconditioned(options, "dense_2layer_vae")
    latent = options.latent_dim
    top_encoder, top_decoder, top_latent = build_top_layers(options, latent, rngs)
    return TwoLayerVAE(
        DenseEncoder(input_shape, 2 * latent, options=options, rngs=rngs),
        DenseDecoder(latent, output_shape, options=options, rngs=rngs),
        latent,
        top_encoder,
        top_decoder,
        top_latent,
    )
