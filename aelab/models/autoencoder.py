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
from aelab.models.iaf import InverseAutoregressiveFlow
from aelab.models.priors import StandardNormalPrior


def _given(condition: jax.Array | None) -> dict:
    """{"condition": condition} when there is one, else {} (unconditional networks take
    no condition argument)."""
    return {} if condition is None else {"condition": condition}


class Autoencoder(nnx.Module):
    """A deterministic autoencoder: z = encoder(x), decoded = decoder(z).

    The encoder maps [batch, *input_shape] -> [batch, latent_dim]; the decoder maps
    [batch, latent_dim] -> [batch, *output_shape].

    A decoder whose `conditions_on_inputs` attribute is true (an autoregressive decoder
    trained with teacher forcing) is also given the inputs when reconstructing them in
    training mode: `decoder(z, train=, rngs=, inputs=x)`. In evaluation mode, and in
    `decode(z)`, it runs on its own predictions.

    Every method takes an optional `condition` [batch, condition_dim], handed to the
    encoder and the decoder as `condition=` (only when given, so unconditional networks,
    and subclasses whose methods take no condition, never see it): what
    `aelab.models.conditional` builds on.
    """

    def __init__(self, encoder: nnx.Module, decoder: nnx.Module, latent_dim: int):
        self.encoder = encoder
        self.decoder = decoder
        self.latent_dim = latent_dim

    def encode(
        self,
        x: jax.Array,
        *,
        train: bool = False,
        rngs: nnx.Rngs | None = None,
        condition: jax.Array | None = None,
    ) -> Encoding:
        """Codes of a batch: x [batch, *input_shape] -> Encoding(mean=[batch, latent_dim])."""
        return Encoding(mean=self.encoder(x, train=train, rngs=rngs, **_given(condition)))

    def decode(
        self,
        z: jax.Array,
        *,
        train: bool = False,
        rngs: nnx.Rngs | None = None,
        condition: jax.Array | None = None,
    ) -> jax.Array:
        """Parameters of p(x|z): z [batch, latent_dim] -> [batch, *output_shape]."""
        return self.decoder(z, train=train, rngs=rngs, **_given(condition))

    def reconstruct(
        self,
        z: jax.Array,
        x: jax.Array,
        *,
        train: bool,
        rngs: nnx.Rngs | None,
        condition: jax.Array | None = None,
    ) -> jax.Array:
        """Decodes `z` as the reconstruction of `x` [batch, *input_shape] (teacher forcing
        for decoders that condition on their inputs, in training mode)."""
        if train and self.decoder.conditions_on_inputs:
            return self.decoder(z, train=train, rngs=rngs, inputs=x, **_given(condition))
        return self.decode(z, train=train, rngs=rngs, **_given(condition))

    def __call__(
        self,
        x: jax.Array,
        *,
        train: bool = False,
        rngs: nnx.Rngs | None = None,
        condition: jax.Array | None = None,
    ) -> ModelOutput:
        encoding = self.encode(x, train=train, rngs=rngs, **_given(condition))
        return ModelOutput(
            encoding=encoding,
            code=encoding.mean,
            decoded=self.reconstruct(encoding.mean, x, train=train, rngs=rngs, **_given(condition)),
        )


class GaussianVAE(Autoencoder):
    """A VAE with one latent: a diagonal Gaussian posterior q(z|x) = N(mean, exp(log_var)),
    optionally followed by inverse autoregressive flow steps (`aelab.models.iaf`), and a
    prior from `aelab.models.priors` (N(0, I) unless given).

    The encoder maps [batch, *input_shape] -> [batch, 2 * latent_dim + context] (mean,
    log-variance and, with a flow, its context h of `flow.context_dim` features).

    With the N(0, I) prior and no flow (`analytic_kl`), `kl_terms` is the closed-form KL
    per latent dimension. Otherwise it is the single-sample Monte-Carlo estimate
    log q(z|x) - log p(z) at the posterior sample that was decoded (one group), as in
    Tomczak & Welling (2018) and Kingma et al. (2016); `__call__` stores both log-densities
    in `encoding.extras` ("log_q_z", "log_p_z"). With a flow, `encoding.mean` and
    `log_var` are those of the Gaussian the flow starts from.
    """

    num_stochastic_layers = 1

    def __init__(
        self,
        encoder: nnx.Module,
        decoder: nnx.Module,
        latent_dim: int,
        *,
        prior=None,
        flow: InverseAutoregressiveFlow | None = None,
    ):
        super().__init__(encoder, decoder, latent_dim)
        self.prior = StandardNormalPrior(latent_dim) if prior is None else prior
        self.flow = flow

    @property
    def analytic_kl(self) -> bool:
        """Whether `kl_terms` is the closed-form KL(q(z|x) || N(0, I)) per dimension: one
        Gaussian latent, the standard prior and no flow."""
        return (
            self.num_stochastic_layers == 1 and self.prior.name == "standard" and self.flow is None
        )

    def encode(
        self,
        x: jax.Array,
        *,
        train: bool = False,
        rngs: nnx.Rngs | None = None,
        condition: jax.Array | None = None,
    ) -> Encoding:
        """The posterior q(z|x): x [batch, *input_shape] -> Encoding(mean, log_var).

        Both `mean` and `log_var` are [batch, latent_dim]; with a flow, `extras["context"]`
        is its context h [batch, flow.context_dim].
        """
        params = self.encoder(x, train=train, rngs=rngs, **_given(condition))
        if self.flow is None:
            mean, log_var = jnp.split(params, 2, axis=-1)
            return Encoding(mean=mean, log_var=log_var)
        d = self.latent_dim
        mean, log_var, context = params[..., :d], params[..., d : 2 * d], params[..., 2 * d :]
        return Encoding(mean=mean, log_var=log_var, extras={"context": context})

    def _flow_sample(self, encoding: Encoding, eps: jax.Array) -> tuple[jax.Array, jax.Array]:
        """(z_T, log q(z_T|x)) from the noise eps [..., batch, latent] through the flow."""
        z0 = encoding.mean + jnp.exp(0.5 * encoding.log_var) * eps
        z, log_det = self.flow(z0, encoding.extras["context"])
        log_q = standard_normal_log_density(eps) - 0.5 * encoding.log_var.sum(axis=-1) - log_det
        return z, log_q

    def sample_posterior(
        self, encoding: Encoding, rngs: nnx.Rngs, num_samples: int | None = None
    ) -> jax.Array:
        """Reparameterised samples z = mean + exp(log_var / 2) * eps (then the flow, if any).

        Returns [batch, latent_dim], or [num_samples, batch, latent_dim] when
        `num_samples` is given.
        """
        shape = encoding.mean.shape if num_samples is None else (num_samples, *encoding.mean.shape)
        eps = jax.random.normal(rngs.sample(), shape, encoding.mean.dtype)
        if self.flow is not None:
            return self._flow_sample(encoding, eps)[0]
        return encoding.mean + jnp.exp(0.5 * encoding.log_var) * eps

    def _prior_encode(self, u: jax.Array) -> tuple[jax.Array, jax.Array]:
        """Gaussian posterior parameters of inputs u [n, *input_shape] (for the VampPrior):
        (mean, log_var), each [n, latent_dim]; evaluation mode, so deterministic."""
        params = self.encoder(u, train=False, rngs=None)
        d = self.latent_dim
        return params[..., :d], params[..., d : 2 * d]

    def prior_log_prob(self, z: jax.Array) -> jax.Array:
        """log p(z) of codes z [..., latent_dim]: [...]."""
        return self.prior.log_prob(z, self._prior_encode)

    def sample_prior(self, rngs: nnx.Rngs, num_samples: int) -> jax.Array:
        """Codes drawn from the prior: [num_samples, latent_dim]."""
        return self.prior.sample(rngs, num_samples, self._prior_encode)

    def kl_terms(self, output: ModelOutput) -> jax.Array:
        """KL(q(z|x) || p(z)): analytic per latent dimension [batch, latent] with
        `analytic_kl`, else log q(z|x) - log p(z) at `output.code` [batch, 1]."""
        if self.analytic_kl:
            return gaussian_kl_per_dimension(output.encoding.mean, output.encoding.log_var)
        extras = output.encoding.extras
        return (extras["log_q_z"] - extras["log_p_z"])[:, None]

    def log_importance_weights(
        self,
        x: jax.Array,
        likelihood,
        *,
        rngs: nnx.Rngs,
        num_samples: int,
        train: bool = False,
        condition: jax.Array | None = None,
    ) -> jax.Array:
        """log w = log p(x|z) + log p(z) - log q(z|x) for `num_samples` posterior samples.

        Args:
          x: [batch, *data_shape] data (the decoder's targets and the encoder's inputs).
          likelihood: scores decoder outputs against `x` (`aelab.objectives.likelihoods`).
          num_samples: k.
          condition: [batch, condition_dim] for a conditional model (each of the k
            samples of an example is decoded under its condition).
        Returns:
          [num_samples, batch] log weights.
        """
        encoding = self.encode(x, train=train, rngs=rngs, **_given(condition))
        if self.flow is None:
            z = self.sample_posterior(encoding, rngs, num_samples)  # [k, batch, latent]
        else:
            eps = jax.random.normal(
                rngs.sample(), (num_samples, *encoding.mean.shape), encoding.mean.dtype
            )
            z, log_qz = self._flow_sample(encoding, eps)
        k, batch = z.shape[:2]
        repeated = None
        if condition is not None:
            repeated = jnp.broadcast_to(condition, (k, *condition.shape))
            repeated = repeated.reshape(k * batch, *condition.shape[1:])
        decoded = self.decode(
            z.reshape(k * batch, *z.shape[2:]), train=train, rngs=rngs, **_given(repeated)
        )
        targets = jnp.broadcast_to(x, (k, *x.shape)).reshape(k * batch, *x.shape[1:])
        log_px_z = likelihood.log_prob(decoded, targets).reshape(k, batch)
        flat_z = z.reshape(k, batch, -1)
        log_pz = self.prior_log_prob(flat_z)
        if self.flow is None:
            log_qz = gaussian_log_density(
                flat_z,
                encoding.mean.reshape(batch, -1),
                encoding.log_var.reshape(batch, -1),
            )
        return log_px_z + log_pz - log_qz

    def __call__(
        self,
        x: jax.Array,
        *,
        train: bool = False,
        rngs: nnx.Rngs | None = None,
        condition: jax.Array | None = None,
    ) -> ModelOutput:
        """Decodes a posterior sample when `rngs` is given, the posterior mean otherwise
        (with a flow: the flow of the Gaussian's mean, eps = 0)."""
        encoding = self.encode(x, train=train, rngs=rngs, **_given(condition))
        if self.analytic_kl:
            code = encoding.mean if rngs is None else self.sample_posterior(encoding, rngs)
        else:
            code, log_q = self._sample_with_log_density(encoding, rngs)
            extras = {**encoding.extras, "log_q_z": log_q, "log_p_z": self.prior_log_prob(code)}
            encoding = encoding.replace(extras=extras)
        return ModelOutput(
            encoding=encoding,
            code=code,
            decoded=self.reconstruct(code, x, train=train, rngs=rngs, **_given(condition)),
        )

    def _sample_with_log_density(
        self, encoding: Encoding, rngs: nnx.Rngs | None
    ) -> tuple[jax.Array, jax.Array]:
        """(z [batch, latent], log q(z|x) [batch]): a posterior sample, or eps = 0 without
        rngs."""
        mean = encoding.mean
        if rngs is None:
            eps = jnp.zeros_like(mean)
        else:
            eps = jax.random.normal(rngs.sample(), mean.shape, mean.dtype)
        if self.flow is not None:
            return self._flow_sample(encoding, eps)
        z = mean + jnp.exp(0.5 * encoding.log_var) * eps
        return z, gaussian_log_density(z, mean, encoding.log_var)
