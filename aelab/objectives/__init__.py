"""Objectives: each scores a model on a batch and returns `(loss, metrics)`.

Built by name from `config.objective`:

    objective = build_objective(config.objective)
    loss, metrics = objective(model, batch, rngs=rngs, train=True, step=step)

See `aelab.objectives.base` for the batch and metric conventions. Registered:

  reconstruction  -log p(x|z) of an autoencoder; optional code penalties
                  `code_l1_weight`, `sparsity_weight` + `sparsity_target` (sparse AE),
                  `contractive_weight` (contractive AE).
  elbo            -ELBO of a VAE: `beta` (beta-VAE), `kl_warmup_steps`,
                  `kl_cycle_steps`, `free_bits`.
  iwae            -IWAE_k bound: `num_samples` (k).
  wae_mmd         reconstruction + `mmd_weight` * MMD^2(codes, prior): `mmd_kernel`
                  ("imq" | "rbf"), `prior_var`.

Every objective takes `likelihood` (see `LIKELIHOODS`; "gaussian" also reads
`likelihood_scale`) and the weight penalties `l1_weight`, `l2_weight`.
"""

from __future__ import annotations

from aelab.objectives.base import Objective, weighted_mean
from aelab.objectives.bounds import iwae_bound, log_importance_weights
from aelab.objectives.elbo import ElboObjective
from aelab.objectives.iwae import IwaeObjective
from aelab.objectives.kl import gaussian_kl_to_standard_normal
from aelab.objectives.likelihoods import LIKELIHOODS, Likelihood, build_likelihood
from aelab.objectives.penalties import l1_penalty, l2_penalty
from aelab.objectives.reconstruction import ReconstructionObjective
from aelab.objectives.wae import WaeMmdObjective
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
    return ReconstructionObjective(
        _likelihood_from(config),
        code_l1_weight=config.get("code_l1_weight", 0.0),
        sparsity_weight=config.get("sparsity_weight", 0.0),
        sparsity_target=config.get("sparsity_target", 0.05),
        contractive_weight=config.get("contractive_weight", 0.0),
        **_penalties_from(config),
    )


@OBJECTIVES.register("elbo")
def _build_elbo(config) -> Objective:
    return ElboObjective(
        _likelihood_from(config),
        beta=config.get("beta", 1.0),
        kl_warmup_steps=config.get("kl_warmup_steps", 0),
        kl_cycle_steps=config.get("kl_cycle_steps", 0),
        free_bits=config.get("free_bits", 0.0),
        num_samples=config.get("num_samples", 1),
        **_penalties_from(config),
    )


@OBJECTIVES.register("iwae")
def _build_iwae(config) -> Objective:
    return IwaeObjective(
        _likelihood_from(config),
        num_samples=config.get("num_samples", 5),
        **_penalties_from(config),
    )


@OBJECTIVES.register("wae_mmd")
def _build_wae_mmd(config) -> Objective:
    return WaeMmdObjective(
        _likelihood_from(config),
        mmd_weight=config.get("mmd_weight", 10.0),
        mmd_kernel=config.get("mmd_kernel", "imq"),
        prior_var=config.get("prior_var", 1.0),
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
    "IwaeObjective",
    "Likelihood",
    "Objective",
    "ReconstructionObjective",
    "WaeMmdObjective",
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
