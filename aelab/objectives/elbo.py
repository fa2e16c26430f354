"""The VAE objective: the negative evidence lower bound, with an optional beta on the KL."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from aelab.objectives.base import Metrics, Objective, targets_of
from aelab.objectives.kl import gaussian_kl_to_standard_normal


class ElboObjective(Objective):
    """-ELBO = E_q[-log p(x|z)] + beta * KL(q(z|x) || p(z)), the expectation estimated
    with `num_samples` posterior samples (1 by default; the IWAE paper's "VAE with k
    samples" averages k), the KL computed analytically.

    Reported per example: "loss" (with beta), "elbo" (beta = 1, in nats: higher is better),
    "kl" and "reconstruction_nll". With a Bernoulli or Gaussian likelihood the ELBO is a
    bound on log p(x); with "mse" it is not normalised.
    """

    def __init__(self, likelihood, *, beta: float = 1.0, num_samples: int = 1, **kwargs):
        super().__init__(likelihood, **kwargs)
        if num_samples < 1:
            raise ValueError(
                f"config.objective.num_samples={num_samples} is not valid; it must be >= 1."
            )
        self.beta = beta
        self.num_samples = num_samples

    def per_example_terms(
        self, model: nnx.Module, batch: dict, *, rngs: nnx.Rngs | None, train: bool, step: jax.Array
    ) -> tuple[Metrics, jax.Array]:
        if rngs is None:
            raise ValueError("The ELBO needs rngs to sample the posterior.")
        if not getattr(model, "is_variational", False):
            raise ValueError(
                f"objective 'elbo' needs a variational model; {type(model).__name__} is not. "
                "Use a *_vae model, or objective 'reconstruction'."
            )
        if self.num_samples == 1:
            output = model(batch["inputs"], train=train, rngs=rngs)
            encoding, decoded = output.encoding, output.decoded
            nll = -self.likelihood.log_prob(decoded, targets_of(batch))
        else:
            encoding, decoded, nll = self._multi_sample_nll(model, batch, rngs=rngs, train=train)
        kl = gaussian_kl_to_standard_normal(encoding.mean, encoding.log_var)
        terms = {
            "loss": nll + self.beta * kl,
            "elbo": -(nll + kl),
            "kl": kl,
            "reconstruction_nll": nll,
        }
        return terms, decoded

    def _multi_sample_nll(self, model, batch, *, rngs, train):
        """(encoding, decoded of the first sample, mean over samples of -log p(x|z)) [b]."""
        encoding = model.encode(batch["inputs"], train=train, rngs=rngs)
        z = model.sample_posterior(encoding, rngs, self.num_samples)  # [k, b, ...]
        k, b = z.shape[:2]
        decoded = model.decode(z.reshape(k * b, *z.shape[2:]), train=train, rngs=rngs)
        targets = targets_of(batch)
        targets = jnp.broadcast_to(targets, (k, *targets.shape)).reshape(k * b, *targets.shape[1:])
        nll = -self.likelihood.log_prob(decoded, targets).reshape(k, b).mean(axis=0)
        return encoding, decoded.reshape(k, b, *decoded.shape[1:])[0], nll
