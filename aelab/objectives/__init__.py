"""Objectives: each scores a model on a batch and returns `(loss, metrics)`.

Built by name from `config.objective`:

    objective = build_objective(config.objective)
    loss, metrics = objective(model, batch, rngs=rngs, train=True, step=step)

See `aelab.objectives.base` for the batch and metric conventions. Each objective
declares its options (docs/options.md); registered:

  reconstruction  -log p(x|z) of an autoencoder; optional code penalties (sparse and
                  contractive autoencoders).
  elbo            -ELBO of a VAE: beta-VAE weight, KL warm-up and cycles, free bits.
  iwae            -IWAE_k bound.
  wae_mmd         reconstruction + lambda * MMD^2(codes, prior).
  beta_tc_vae     beta-TC-VAE: the KL split into mutual information, total correlation
                  and dimension-wise KL, weighted alpha, beta, gamma (MWS or MSS).
  dip_vae         DIP-VAE I or II: -ELBO + a penalty pulling Cov[mu] (I) or
                  E[Sigma] + Cov[mu] (II) to the identity.
  annealed_vae    beta-VAE with a growing capacity: reconstruction + gamma |KL - C(step)|.
  factor_vae      FactorVAE: -ELBO + gamma * TC, the TC estimated by a discriminator
                  trained alongside (`adversarial`: its own optimizer, same step).
  vqgan           reconstruction + an adaptively weighted PatchGAN loss (VQGAN);
                  hinge or non-saturating, R1, LeCam, a discriminator start step.

Every objective takes a `likelihood` (`LIKELIHOODS`) and the weight penalties
`l1_weight`, `l2_weight`. Every module of this package is imported here, so a new
objective is one new module; see docs/adding_an_objective.md.
"""

from __future__ import annotations

from aelab.core.discovery import import_submodules
from aelab.objectives.base import Objective, ObjectiveOptions, weighted_mean
from aelab.objectives.bounds import iwae_bound, log_importance_weights
from aelab.objectives.likelihoods import LIKELIHOODS, Likelihood, build_likelihood
from aelab.objectives.penalties import l1_penalty, l2_penalty
from aelab.objectives.registry import (
    OBJECTIVE_SECTION,
    OBJECTIVES,
    build_objective,
    list_objectives,
    objective_options,
    register_objective,
)

import_submodules(__name__, __path__)

__all__ = [
    "LIKELIHOODS",
    "OBJECTIVES",
    "OBJECTIVE_SECTION",
    "Likelihood",
    "Objective",
    "ObjectiveOptions",
    "build_likelihood",
    "build_objective",
    "iwae_bound",
    "l1_penalty",
    "l2_penalty",
    "list_objectives",
    "log_importance_weights",
    "objective_options",
    "register_objective",
    "weighted_mean",
]
