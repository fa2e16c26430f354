"""The Wasserstein autoencoder objective with an MMD penalty (WAE-MMD)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from flax import nnx

from aelab.core.options import option, options_class
from aelab.objectives.base import (
    Metrics,
    Objective,
    ObjectiveOptions,
    example_weights,
    targets_of,
)
from aelab.objectives.mmd import KERNELS, mmd_squared
from aelab.objectives.registry import register_objective


@options_class
class WaeMmdOptions(ObjectiveOptions):
    """`config.objective` of "wae_mmd"."""

    mmd_weight: float = option(10.0, "lambda: weight of the MMD penalty", minimum=0.0)
    mmd_kernel: str = option("imq", "the MMD kernel", choices=KERNELS)
    prior_var: float = option(1.0, "variance of the N(0, prior_var I) prior", above=0.0)


@register_objective("wae_mmd", options=WaeMmdOptions)
class WaeMmdObjective(Objective):
    """loss = -log p(x | z) + lambda * MMD^2(q(z), p(z)) (Tolstikhin et al., 2018).

    The codes of the batch (a deterministic encoder's, or posterior samples of a VAE's)
    are matched as a whole to as many samples of the prior N(0, prior_var I): the
    penalty is a batch term, the same for every example of the batch. Works with any
    model; the WAE paper uses a deterministic encoder (`*_ae`).

    Reported per example: "loss", "reconstruction_nll", "mmd" (the batch's MMD^2).
    """

    def __init__(
        self,
        likelihood,
        *,
        mmd_weight: float = 10.0,
        mmd_kernel: str = "imq",
        prior_var: float = 1.0,
        **kwargs,
    ):
        super().__init__(likelihood, **kwargs)
        self.mmd_weight = mmd_weight
        self.mmd_kernel = mmd_kernel
        self.prior_var = prior_var

    def per_example_terms(
        self, model: nnx.Module, batch: dict, *, rngs: nnx.Rngs | None, train: bool, step: jax.Array
    ) -> tuple[Metrics, jax.Array]:
        if rngs is None:
            raise ValueError("Objective 'wae_mmd' needs rngs to sample the prior.")
        output = model(batch["inputs"], train=train, rngs=rngs)
        nll = -self.likelihood.log_prob(output.decoded, targets_of(batch))
        z = output.code.reshape(output.code.shape[0], -1)
        prior_z = math.sqrt(self.prior_var) * jax.random.normal(rngs.prior(), z.shape, z.dtype)
        mmd = mmd_squared(
            z, prior_z, example_weights(batch), kernel=self.mmd_kernel, prior_var=self.prior_var
        )
        mmd = jnp.full(nll.shape, mmd)
        terms = {"loss": nll + self.mmd_weight * mmd, "reconstruction_nll": nll, "mmd": mmd}
        return terms, output.decoded
