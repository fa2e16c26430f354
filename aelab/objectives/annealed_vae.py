"""The beta-VAE with a controlled, linearly growing capacity (Burgess et al., 2018,
"Understanding disentangling in beta-VAE", eq. 8):

    loss = -log p(x|z) + gamma * |KL(q(z|x) || p(z)) - C(step)|,
    C(step) = c_min + (c_max - c_min) * min(1, step / capacity_steps),

so the KL is held near a target that rises from c_min to c_max nats: the code gains
capacity gradually, and learns the factors that matter most for reconstruction first.
The paper's dSprites run: gamma = 1000, C from 0 to 25 nats over 100,000 steps.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from aelab.core.options import option, options_class
from aelab.objectives.base import Metrics, Objective, ObjectiveOptions
from aelab.objectives.elbo import single_sample_elbo_terms
from aelab.objectives.registry import register_objective


@options_class
class AnnealedVaeOptions(ObjectiveOptions):
    """`config.objective` of "annealed_vae"."""

    gamma: float = option(1000.0, "weight of |KL - C|", minimum=0.0)
    c_min: float = option(0.0, "the capacity C at step 0, in nats", minimum=0.0)
    c_max: float = option(25.0, "the capacity C from step capacity_steps on, in nats", minimum=0.0)
    capacity_steps: int = option(
        100_000, "steps over which C grows linearly from c_min to c_max (0: c_max)", minimum=0
    )

    def check(self):
        if self.c_max < self.c_min:
            yield ("c_max", f"must be at least config.objective.c_min={self.c_min}")


def capacity(
    step: jax.Array | int, *, c_min: float, c_max: float, capacity_steps: int
) -> jax.Array:
    """C(step) = c_min + (c_max - c_min) * min(1, step / capacity_steps): scalar nats
    (c_max throughout when capacity_steps = 0)."""
    if not capacity_steps:
        return jnp.asarray(c_max, jnp.float32)
    fraction = jnp.minimum(1.0, jnp.asarray(step, jnp.float32) / capacity_steps)
    return c_min + (c_max - c_min) * fraction


@register_objective("annealed_vae", options=AnnealedVaeOptions)
class AnnealedVaeObjective(Objective):
    """loss = -log p(x|z) + gamma * |KL - C(step)| per example (module docstring).

    The training step is the `step` every objective is called with (the train state's
    step; evaluation passes the same, so evaluation scores the capacity of the moment).
    The KL is the model's `kl_terms` summed, per example, as the paper's equation reads
    (disentanglement_lib applies |. - C| to the batch mean instead). Any latent-variable
    model works. Reported per example: "loss", "elbo", "kl", "reconstruction_nll",
    "capacity", "bits_per_dim" for discrete likelihoods, and what the model reports
    itself.
    """

    model_kind = "latent_variable"

    def __init__(
        self,
        likelihood,
        *,
        gamma: float = 1000.0,
        c_min: float = 0.0,
        c_max: float = 25.0,
        capacity_steps: int = 100_000,
        **kwargs,
    ):
        super().__init__(likelihood, **kwargs)
        self.gamma = gamma
        self.c_min, self.c_max = c_min, c_max
        self.capacity_steps = capacity_steps

    def per_example_terms(
        self, model: nnx.Module, batch: dict, *, rngs: nnx.Rngs | None, train: bool, step: jax.Array
    ) -> tuple[Metrics, jax.Array]:
        output, terms, reported_loss = single_sample_elbo_terms(
            model, batch, self.likelihood, rngs=rngs, train=train, objective="annealed_vae"
        )
        target = capacity(
            step, c_min=self.c_min, c_max=self.c_max, capacity_steps=self.capacity_steps
        )
        kl = terms["kl"]
        terms["capacity"] = jnp.full(kl.shape, target)
        terms["loss"] = (
            terms["reconstruction_nll"] + self.gamma * jnp.abs(kl - target) + reported_loss
        )
        return terms, output.decoded
