"""The plain autoencoder objective: negative log-likelihood of the reconstruction."""

from __future__ import annotations

import jax
from flax import nnx

from aelab.objectives.base import Metrics, Objective, targets_of


class ReconstructionObjective(Objective):
    """loss = -log p(x | z = encode(x)) per example (for "mse": the summed squared error)."""

    def per_example_terms(
        self, model: nnx.Module, batch: dict, *, rngs: nnx.Rngs | None, train: bool, step: jax.Array
    ) -> tuple[Metrics, jax.Array]:
        output = model(batch["inputs"], train=train, rngs=rngs)
        nll = -self.likelihood.log_prob(output.decoded, targets_of(batch))
        return {"loss": nll, "reconstruction_nll": nll}, output.decoded
