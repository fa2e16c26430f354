"""Any encoder/decoder pair as a deterministic autoencoder or as a Gaussian VAE.

Both follow the model contract of `aelab.core.contract` (`GaussianVAE` with the
latent-variable hooks).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from aelab.core.contract import Encoding, ModelOutput
from aelab.core.distributions import (
    gaussian_kl_per_dimension,
    gaussian_log_density,
    standard_normal_log_density,
)


class Autoencoder(nnx.Module):
    """A deterministic autoencoder: z = encoder(x), decoded = decoder(z).

    The encoder maps [batch, *input_shape] -> [batch, latent_dim]; the decoder maps
    [batch, latent_dim] -> [batch, *output_shape].

    A decoder whose `conditions_on_inputs` attribute is true (an autoregressive decoder
    trained with teacher forcing) is also given the inputs when reconstructing them in
    training mode: `decoder(z, train=, rngs=, inputs=x)`. In evaluation mode, and in
    `decode(z)`, it runs on its own predictions.
    """

    def __init__(self, encoder: nnx.Module, decoder: nnx.Module, latent_dim: int):
        self.encoder = encoder
        self.decoder = decoder
        self.latent_dim = latent_dim

    def encode(
        self, x: jax.Array, *, train: bool = False, rngs: nnx.Rngs | None = None
    ) -> Encoding:
        """Codes of a batch: x [batch, *input_shape] -> Encoding(mean=[batch, latent_dim])."""
        return Encoding(mean=self.encoder(x, train=train, rngs=rngs))

    def decode(
        self, z: jax.Array, *, train: bool = False, rngs: nnx.Rngs | None = None
    ) -> jax.Array:
        """Parameters of p(x|z): z [batch, latent_dim] -> [batch, *output_shape]."""
        return self.decoder(z, train=train, rngs=rngs)

    def reconstruct(
        self, z: jax.Array, x: jax.Array, *, train: bool, rngs: nnx.Rngs | None
    ) -> jax.Array:
        """Decodes `z` as the reconstruction of `x` [batch, *input_shape] (teacher forcing
        for decoders that condition on their inputs, in training mode)."""
        if train and self.decoder.conditions_on_inputs:
            return self.decoder(z, train=train, rngs=rngs, inputs=x)
        return self.decode(z, train=train, rngs=rngs)

    def __call__(
        self, x: jax.Array, *, train: bool = False, rngs: nnx.Rngs | None = None
    ) -> ModelOutput:
        encoding = self.encode(x, train=train, rngs=rngs)
        return ModelOutput(
            encoding=encoding,
            code=encoding.mean,
            decoded=self.reconstruct(encoding.mean, x, train=train, rngs=rngs),
        )


class GaussianVAE(Autoencoder):
    """A VAE with a diagonal Gaussian posterior q(z|x) = N(mean, exp(log_var)) and the
    prior N(0, I).

    The encoder maps [batch, *input_shape] -> [batch, 2 * latent_dim] (mean, log-variance).
    """

    num_stochastic_layers = 1

    def encode(
        self, x: jax.Array, *, train: bool = False, rngs: nnx.Rngs | None = None
    ) -> Encoding:
        """The posterior q(z|x): x [batch, *input_shape] -> Encoding(mean, log_var).

        Both `mean` and `log_var` are [batch, latent_dim].
        """
        mean, log_var = jnp.split(self.encoder(x, train=train, rngs=rngs), 2, axis=-1)
        return Encoding(mean=mean, log_var=log_var)

    @staticmethod
    def sample_posterior(
        encoding: Encoding, rngs: nnx.Rngs, num_samples: int | None = None
    ) -> jax.Array:
        """Reparameterised samples z = mean + exp(log_var / 2) * eps.

        Returns [batch, latent_dim], or [num_samples, batch, latent_dim] when
        `num_samples` is given.
        """
        shape = encoding.mean.shape if num_samples is None else (num_samples, *encoding.mean.shape)
        eps = jax.random.normal(rngs.sample(), shape, encoding.mean.dtype)
        return encoding.mean + jnp.exp(0.5 * encoding.log_var) * eps

    def sample_prior(self, rngs: nnx.Rngs, num_samples: int) -> jax.Array:
        """Codes drawn from the prior N(0, I): [num_samples, latent_dim]."""
        return jax.random.normal(rngs.sample(), (num_samples, self.latent_dim))

    @staticmethod
    def kl_terms(output: ModelOutput) -> jax.Array:
        """The analytic KL(q(z|x) || N(0, I)) of each latent dimension: [batch, latent]."""
        return gaussian_kl_per_dimension(output.encoding.mean, output.encoding.log_var)

    def log_importance_weights(
        self,
        x: jax.Array,
        likelihood,
        *,
        rngs: nnx.Rngs,
        num_samples: int,
        train: bool = False,
    ) -> jax.Array:
        """log w = log p(x|z) + log p(z) - log q(z|x) for `num_samples` posterior samples.

        Args:
          x: [batch, *data_shape] data (the decoder's targets and the encoder's inputs).
          likelihood: scores decoder outputs against `x` (`aelab.objectives.likelihoods`).
          num_samples: k.
        Returns:
          [num_samples, batch] log weights.
        """
        encoding = self.encode(x, train=train, rngs=rngs)
        z = self.sample_posterior(encoding, rngs, num_samples)  # [k, batch, latent]
        k, batch = z.shape[:2]
        decoded = self.decode(z.reshape(k * batch, *z.shape[2:]), train=train, rngs=rngs)
        targets = jnp.broadcast_to(x, (k, *x.shape)).reshape(k * batch, *x.shape[1:])
        log_px_z = likelihood.log_prob(decoded, targets).reshape(k, batch)
        flat_z = z.reshape(k, batch, -1)
        log_pz = standard_normal_log_density(flat_z)
        log_qz = gaussian_log_density(
            flat_z,
            encoding.mean.reshape(batch, -1),
            encoding.log_var.reshape(batch, -1),
        )
        return log_px_z + log_pz - log_qz

    def __call__(
        self, x: jax.Array, *, train: bool = False, rngs: nnx.Rngs | None = None
    ) -> ModelOutput:
        """Decodes a posterior sample when `rngs` is given, the posterior mean otherwise."""
        encoding = self.encode(x, train=train, rngs=rngs)
        code = encoding.mean if rngs is None else self.sample_posterior(encoding, rngs)
        return ModelOutput(
            encoding=encoding,
            code=code,
            decoded=self.reconstruct(code, x, train=train, rngs=rngs),
        )
