"""The VAE objective: the negative evidence lower bound, with an optional beta on the KL."""

from __future__ import annotations

import jax
from flax import nnx

from aelab.objectives.base import Metrics, Objective, targets_of
from aelab.objectives.kl import gaussian_kl_to_standard_normal


class ElboObjective(Objective):
    """-ELBO = E_q[-log p(x|z)] + beta * KL(q(z|x) || p(z)), one posterior sample.

    Reported per example: "loss" (with beta), "elbo" (beta = 1, in nats: higher is better),
    "kl" and "reconstruction_nll". With a Bernoulli or Gaussian likelihood the ELBO is a
    bound on log p(x); with "mse" it is not normalised.
    """

    def __init__(self, likelihood, *, beta: float = 1.0, **kwargs):
        super().__init__(likelihood, **kwargs)
        self.beta = beta

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
        output = model(batch["inputs"], train=train, rngs=rngs)
        nll = -self.likelihood.log_prob(output.decoded, targets_of(batch))
        kl = gaussian_kl_to_standard_normal(output.encoding.mean, output.encoding.log_var)
        terms = {
            "loss": nll + self.beta * kl,
            "elbo": -(nll + kl),
            "kl": kl,
            "reconstruction_nll": nll,
        }
        return terms, output.decoded
