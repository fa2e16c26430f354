"""A linear-Gaussian VAE (probabilistic PCA) whose marginal likelihood is closed-form.

Generative model: z ~ N(0, I_d), x = z W + b + sigma * eps, so p(x) = N(b, W^T W +
sigma^2 I). With W's rows orthogonal the exact posterior is a diagonal Gaussian,
q(z | x) = N((x - b) W^T S / sigma^2, S) with S = (I + W W^T / sigma^2)^-1, which the
encoder can represent exactly (or off by a chosen shift and variance factor).
"""

import jax.numpy as jnp
import numpy as np
from flax import nnx
from scipy.stats import multivariate_normal

from aelab.models import GaussianVAE


class AffineEncoder(nnx.Module):
    """x [b, dx] -> [mean, log_var] [b, 2 dz]: mean = x A + c, log_var fixed."""

    def __init__(self, weight, bias, log_var):
        self.weight = nnx.Param(jnp.asarray(weight, jnp.float32))
        self.bias = nnx.Param(jnp.asarray(bias, jnp.float32))
        self.log_var = nnx.Param(jnp.asarray(log_var, jnp.float32))

    def __call__(self, x, *, train=False, rngs=None):
        mean = x @ self.weight[...] + self.bias[...]
        return jnp.concatenate([mean, jnp.broadcast_to(self.log_var[...], mean.shape)], -1)


class AffineDecoder(nnx.Module):
    """z [b, dz] -> z W + b [b, dx] (the means of p(x | z))."""

    def __init__(self, weight, bias):
        self.weight = nnx.Param(jnp.asarray(weight, jnp.float32))
        self.bias = nnx.Param(jnp.asarray(bias, jnp.float32))

    def __call__(self, z, *, train=False, rngs=None):
        return z @ self.weight[...] + self.bias[...]


class LinearGaussianProblem:
    """A probabilistic PCA model, its VAE and the exact log p(x).

    Args:
      data_dim, latent_dim: dx, dz (dz <= dx).
      sigma: observation noise standard deviation.
      mean_shift, log_var_offset: how far the encoder is from the exact posterior (0, 0:
        exact).
    """

    def __init__(
        self,
        data_dim=5,
        latent_dim=3,
        sigma=0.5,
        *,
        mean_shift=0.0,
        log_var_offset=0.0,
        seed=0,
    ):
        rng = np.random.default_rng(seed)
        orthonormal, _ = np.linalg.qr(rng.normal(size=(data_dim, latent_dim)))
        scales = np.linspace(1.5, 0.7, latent_dim)
        self.weight = scales[:, None] * orthonormal.T  # [dz, dx], orthogonal rows
        self.bias = rng.normal(size=data_dim) * 0.3
        self.sigma = sigma
        precision = np.eye(latent_dim) + self.weight @ self.weight.T / sigma**2
        posterior_cov = np.linalg.inv(precision)
        assert np.allclose(posterior_cov, np.diag(np.diag(posterior_cov)))
        encoder_weight = self.weight.T @ posterior_cov / sigma**2  # [dx, dz]
        encoder_bias = -self.bias @ encoder_weight + mean_shift
        log_var = np.log(np.diag(posterior_cov)) + log_var_offset
        self.model = GaussianVAE(
            AffineEncoder(encoder_weight, encoder_bias, log_var),
            AffineDecoder(self.weight, self.bias),
            latent_dim,
        )
        self._rng = rng

    def sample(self, n):
        """n examples [n, dx] drawn from the model."""
        z = self._rng.normal(size=(n, self.weight.shape[0]))
        noise = self._rng.normal(size=(n, self.weight.shape[1])) * self.sigma
        return (z @ self.weight + self.bias + noise).astype(np.float32)

    def log_marginal(self, x):
        """log p(x) [n], exactly."""
        cov = self.weight.T @ self.weight + self.sigma**2 * np.eye(self.weight.shape[1])
        return multivariate_normal(self.bias, cov).logpdf(np.asarray(x, np.float64))
