"""Objectives: each scores a model on a batch and returns `(loss, metrics)`.

Built by name from `config.objective`:

    objective = build_objective(config.objective)
    loss, metrics = objective(model, batch, rngs=rngs, train=True, step=step)

See `aelab.objectives.base` for the batch and metric conventions.
"""

from __future__ import annotations

from aelab.objectives.base import Objective, weighted_mean
from aelab.objectives.bounds import iwae_bound, log_importance_weights
from aelab.objectives.elbo import ElboObjective
from aelab.objectives.kl import gaussian_kl_to_standard_normal
from aelab.objectives.likelihoods import LIKELIHOODS, Likelihood, build_likelihood
from aelab.objectives.penalties import l1_penalty, l2_penalty
from aelab.objectives.reconstruction import ReconstructionObjective
from aelab.registry import Registry

OBJECTIVES = Registry("objective")


def _likelihood_from(config) -> Likelihood:
    name = config.get("likelihood", "bernoulli")
    kwargs = {}
    if name == "gaussian":
        kwargs["scale"] = config.get("likelihood_scale", 1.0)
    return build_likelihood(name, **kwargs)


def _penalties_from(config) -> dict:
    return {"l1_weight": config.get("l1_weight", 0.0), "l2_weight": config.get("l2_weight", 0.0)}


@OBJECTIVES.register("reconstruction")
def _build_reconstruction(config) -> Objective:
    return ReconstructionObjective(_likelihood_from(config), **_penalties_from(config))


@OBJECTIVES.register("elbo")
def _build_elbo(config) -> Objective:
    return ElboObjective(
        _likelihood_from(config),
        beta=config.get("beta", 1.0),
        num_samples=config.get("num_samples", 1),
        **_penalties_from(config),
    )


def list_objectives() -> list[str]:
    """Names of all registered objectives, sorted."""
    return OBJECTIVES.names()


def build_objective(config) -> Objective:
    """Builds the objective named `config.name` from the `config.objective` ConfigDict."""
    return OBJECTIVES.get(config.name)(config)


__all__ = [
    "LIKELIHOODS",
    "OBJECTIVES",
    "ElboObjective",
    "Likelihood",
    "Objective",
    "ReconstructionObjective",
    "build_likelihood",
    "build_objective",
    "gaussian_kl_to_standard_normal",
    "iwae_bound",
    "l1_penalty",
    "l2_penalty",
    "list_objectives",
    "log_importance_weights",
    "weighted_mean",
]
