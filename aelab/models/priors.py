"""Priors p(z) of a one-latent VAE: the standard normal, a mixture of Gaussians and the
VampPrior.

Every prior has the same two methods:

- ``log_prob(z, encode) -> [...]``: log p(z) of codes z [..., latent_dim];
- ``sample(rngs, num_samples, encode) -> [num_samples, latent_dim]``: codes from p(z).

``encode`` maps inputs [n, *input_shape] to the model's Gaussian posterior parameters
(mean, log_var), each [n, latent_dim]. Only the VampPrior reads it: its components are the
posteriors of learned pseudo-inputs, so it is defined through the model's own encoder;
passing the function instead of holding a second reference to the encoder keeps the
model's parameter tree as it is.

Both non-standard priors are mixtures of K diagonal Gaussians,
p(z) = sum_k pi_k N(z; mu_k, diag(exp(log_var_k))), with uniform weights pi_k = 1/K or
learned ones (a softmax of K logits initialised at zero, so they start uniform).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
from flax import nnx

from aelab.core.distributions import gaussian_log_density, standard_normal_log_density

PRIOR_NAMES = ("standard", "mog", "vamp")
PRIOR_WEIGHTS = ("uniform", "learned")

Encode = Callable[[jax.Array], tuple[jax.Array, jax.Array]]


def mixture_log_density(
    z: jax.Array, log_weights: jax.Array, means: jax.Array, log_vars: jax.Array
) -> jax.Array:
    """log sum_k exp(log_weights_k) N(z; means_k, exp(log_vars_k)).

    Args:
      z: [..., d] codes.
      log_weights: [K] log mixture weights (normalised).
      means, log_vars: [K, d] the components.
    Returns:
      [...].
    """
    per_component = gaussian_log_density(z[..., None, :], means, log_vars)  # [..., K]
    return jax.nn.logsumexp(per_component + log_weights, axis=-1)


def sample_mixture(
    key: jax.Array, log_weights: jax.Array, means: jax.Array, log_vars: jax.Array, n: int
) -> jax.Array:
    """n draws from the mixture (`mixture_log_density`'s arguments): [n, d]."""
    component_key, noise_key = jax.random.split(key)
    components = jax.random.categorical(component_key, log_weights, shape=(n,))
    eps = jax.random.normal(noise_key, (n, means.shape[-1]), means.dtype)
    return means[components] + jnp.exp(0.5 * log_vars[components]) * eps


@dataclasses.dataclass(frozen=True)
class StandardNormalPrior:
    """p(z) = N(0, I). No parameters; a VAE with it keeps the analytic KL."""

    latent_dim: int
    name = "standard"

    def log_prob(self, z: jax.Array, encode: Encode | None = None) -> jax.Array:
        """log N(z; 0, I): [..., latent_dim] -> [...]."""
        return standard_normal_log_density(z)

    def sample(self, rngs: nnx.Rngs, num_samples: int, encode: Encode | None = None) -> jax.Array:
        """[num_samples, latent_dim] draws."""
        return jax.random.normal(rngs.sample(), (num_samples, self.latent_dim))


class _MixturePrior(nnx.Module):
    """A mixture of Gaussians whose components `components(encode)` gives."""

    def _log_weights(self, num_components: int) -> jax.Array:
        if self.logits is None:
            return jnp.full((num_components,), -jnp.log(num_components))
        return jax.nn.log_softmax(self.logits[...])

    def mixture(self, encode: Encode | None) -> tuple[jax.Array, jax.Array, jax.Array]:
        """(log_weights [K], means [K, d], log_vars [K, d])."""
        means, log_vars = self.components(encode)
        return self._log_weights(means.shape[0]), means, log_vars

    def log_prob(self, z: jax.Array, encode: Encode | None = None) -> jax.Array:
        """log p(z): [..., latent_dim] -> [...]."""
        return mixture_log_density(z, *self.mixture(encode))

    def sample(self, rngs: nnx.Rngs, num_samples: int, encode: Encode | None = None) -> jax.Array:
        """[num_samples, latent_dim] draws (a component, then its Gaussian)."""
        return sample_mixture(rngs.sample(), *self.mixture(encode), num_samples)


class MixtureOfGaussiansPrior(_MixturePrior):
    """K learned diagonal Gaussians: means initialised from N(0, I), log-variances at 0."""

    name = "mog"

    def __init__(
        self, latent_dim: int, num_components: int, *, learned_weights: bool, rngs: nnx.Rngs
    ):
        self.means = nnx.Param(jax.random.normal(rngs.params(), (num_components, latent_dim)))
        self.log_vars = nnx.Param(jnp.zeros((num_components, latent_dim)))
        self.logits = nnx.Param(jnp.zeros((num_components,))) if learned_weights else None

    def components(self, encode: Encode | None = None) -> tuple[jax.Array, jax.Array]:
        """(means, log_vars), each [K, latent_dim]."""
        return self.means[...], self.log_vars[...]


class VampPrior(_MixturePrior):
    """p(z) = sum_k pi_k q(z | u_k) over K learned pseudo-inputs u_k (Tomczak & Welling,
    2018), pi_k = 1/K unless the weights are learned.

    The pseudo-inputs [K, *input_shape] are free parameters initialised from
    N(init_mean, init_std^2) elementwise (the paper initialises them at a constant plus
    small noise too; here they are not clipped to the data range). They go through the
    encoder in evaluation mode (no dropout, running batch statistics), so the prior is a
    deterministic function of the parameters.
    """

    name = "vamp"

    def __init__(
        self,
        input_shape: Sequence[int],
        num_components: int,
        *,
        learned_weights: bool,
        init_mean: float,
        init_std: float,
        rngs: nnx.Rngs,
    ):
        noise = jax.random.normal(rngs.params(), (num_components, *input_shape))
        self.pseudo_inputs = nnx.Param(init_mean + init_std * noise)
        self.logits = nnx.Param(jnp.zeros((num_components,))) if learned_weights else None

    def components(self, encode: Encode) -> tuple[jax.Array, jax.Array]:
        """The posteriors of the pseudo-inputs: (means, log_vars), each [K, latent_dim]."""
        return encode(self.pseudo_inputs[...])
