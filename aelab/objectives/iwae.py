"""The importance-weighted autoencoder objective (Burda et al., 2016)."""

from __future__ import annotations

import jax
from flax import nnx

from aelab.core.options import option, options_class
from aelab.objectives.base import Metrics, Objective, ObjectiveOptions
from aelab.objectives.bounds import iwae_bound, log_importance_weights
from aelab.objectives.elbo import check_variational
from aelab.objectives.likelihoods import bits_per_dim
from aelab.objectives.registry import register_objective


@options_class
class IwaeOptions(ObjectiveOptions):
    """`config.objective` of "iwae"."""

    num_samples: int = option(5, "k: importance samples per example", minimum=1)


@register_objective("iwae", options=IwaeOptions)
class IwaeObjective(Objective):
    """loss = -IWAE_k(x) = -(logsumexp_i log w_i - log k), w_i over k posterior samples.

    The log weights come from the model's `log_importance_weights` hook (see
    `aelab.core.contract`), so any latent-variable model works, including ones with
    several stochastic layers. With k = 1 the loss is the single-sample
    Monte-Carlo -ELBO (the KL estimated from the sample, not analytic).

    Reported per example: "loss", "iwae_bound" (nats, higher is better), "elbo" (the mean
    of the k single-sample ELBOs: an ELBO estimate from the same samples, <= the bound),
    "bits_per_dim" of -IWAE_k for discrete likelihoods. The reconstruction behind the
    "mse" metric decodes the posterior mean. The inputs are also the likelihood's
    targets (there is no denoising IWAE).
    """

    model_kind = "latent_variable"

    def __init__(self, likelihood, *, num_samples: int = 5, **kwargs):
        super().__init__(likelihood, **kwargs)
        self.num_samples = int(num_samples)

    def per_example_terms(
        self, model: nnx.Module, batch: dict, *, rngs: nnx.Rngs | None, train: bool, step: jax.Array
    ) -> tuple[Metrics, jax.Array]:
        check_variational(model, "iwae", rngs)
        x = batch["inputs"]
        log_w = log_importance_weights(
            model, x, self.likelihood, rngs=rngs, num_samples=self.num_samples, train=train
        )
        bound = iwae_bound(log_w)
        terms = {"loss": -bound, "iwae_bound": bound, "elbo": log_w.mean(axis=0)}
        if self.likelihood.is_discrete:
            terms["bits_per_dim"] = bits_per_dim(-bound, x.shape[1:])
        encoding = model.encode(x, train=train, rngs=rngs)
        decoded = model.decode(encoding.mean, train=train, rngs=rngs)
        return terms, decoded
