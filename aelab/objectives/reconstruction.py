"""The plain autoencoder objective, with the code penalties of sparse and contractive
autoencoders."""

from __future__ import annotations

import jax
from flax import nnx

from aelab.core.options import option, options_class
from aelab.objectives.base import (
    Metrics,
    Objective,
    ObjectiveOptions,
    model_reported_terms,
    targets_of,
)
from aelab.objectives.code_penalties import (
    code_l1,
    jacobian_frobenius_norm_sq,
    sparsity_kl,
)
from aelab.objectives.registry import register_objective


@options_class
class ReconstructionOptions(ObjectiveOptions):
    """`config.objective` of "reconstruction"."""

    code_l1_weight: float = option(
        0.0, "weight of sum_j |z_j| (sparse autoencoder, L1 form)", minimum=0.0
    )
    sparsity_weight: float = option(
        0.0, "weight of the KL sparsity penalty on sigmoid(z) (Ng's sparse AE)", minimum=0.0
    )
    sparsity_target: float = option(
        0.05, "rho: the target mean activation of the sparsity penalty", above=0.0, below=1.0
    )
    contractive_weight: float = option(
        0.0, "weight of ||dz/dx||_F^2 (contractive autoencoder)", minimum=0.0
    )
    contractive_projections: int = option(
        0,
        "0: the contractive penalty's Jacobian norm exactly (one vector-Jacobian product "
        "per code dimension); m > 0: Hutchinson's unbiased estimate from m random sign "
        "vectors per example in training (evaluation stays exact)",
        minimum=0,
    )


@register_objective("reconstruction", options=ReconstructionOptions)
class ReconstructionObjective(Objective):
    """loss = -log p(x | z = encode(x)) per example (for "mse": the summed squared error),
    plus optional penalties on the code z:

    - `code_l1_weight` * sum_j |z_j| (sparse autoencoder, L1 form);
    - `sparsity_weight` * sum_j KL(rho || rho_hat_j), rho = `sparsity_target`, rho_hat_j
      the batch-mean activation sigmoid(z_j) (sparse autoencoder, Ng's KL form: a batch
      term, the same for every example of the batch);
    - `contractive_weight` * ||d z / d x||_F^2 (contractive autoencoder, Rifai et al.,
      2011), the encoder's Jacobian computed exactly with reverse-mode autodiff, one
      vector-Jacobian product per code dimension, or, with `contractive_projections` =
      m > 0, estimated without bias from m random projections (m products instead of
      d; the penalty's metric is then that estimate).

    Losses the model reports itself (a VQ-VAE's commitment and codebook losses) are added.
    """

    def __init__(
        self,
        likelihood,
        *,
        code_l1_weight: float = 0.0,
        sparsity_weight: float = 0.0,
        sparsity_target: float = 0.05,
        contractive_weight: float = 0.0,
        contractive_projections: int = 0,
        **kwargs,
    ):
        super().__init__(likelihood, **kwargs)
        self.code_l1_weight = code_l1_weight
        self.sparsity_weight = sparsity_weight
        self.sparsity_target = sparsity_target
        self.contractive_weight = contractive_weight
        self.contractive_projections = contractive_projections

    def per_example_terms(
        self, model: nnx.Module, batch: dict, *, rngs: nnx.Rngs | None, train: bool, step: jax.Array
    ) -> tuple[Metrics, jax.Array]:
        output = model(batch["inputs"], train=train, rngs=rngs)
        nll = -self.likelihood.log_prob(output.decoded, targets_of(batch))
        terms = {"reconstruction_nll": nll}
        loss = nll
        code = output.code.reshape(output.code.shape[0], -1)
        if self.code_l1_weight:
            terms["code_l1"] = code_l1(code)
            loss = loss + self.code_l1_weight * terms["code_l1"]
        if self.sparsity_weight:
            terms["sparsity_kl"] = sparsity_kl(code, batch, self.sparsity_target)
            loss = loss + self.sparsity_weight * terms["sparsity_kl"]
        if self.contractive_weight:
            terms["contractive_penalty"] = self._contractive_penalty(
                model,
                batch["inputs"],
                rngs=rngs,
                train=train,
                projections=self.contractive_projections,
            )
            loss = loss + self.contractive_weight * terms["contractive_penalty"]
        reported_loss, reported = model_reported_terms(output.encoding)
        terms.update(reported)
        if reported_loss is not None:
            loss = loss + reported_loss
        terms["loss"] = loss
        return terms, output.decoded

    @staticmethod
    def _contractive_penalty(
        model: nnx.Module,
        inputs: jax.Array,
        *,
        rngs: nnx.Rngs | None,
        train: bool,
        projections: int,
    ) -> jax.Array:
        # A functional copy of the encoder: the Jacobian is taken inside jax.vjp, where
        # the model's own variables (batch statistics, rng counters) must not change.
        graphdef, state = nnx.split(model)
        key = None if rngs is None else rngs.contractive()
        # Evaluation is exact: the estimate is for the gradient's cost, and a metric
        # that selects checkpoints should not carry its noise.
        projection_key = None
        if projections and train and key is not None:
            key, projection_key = jax.random.split(key)
        else:
            projections = 0

        def code_of(x: jax.Array) -> jax.Array:
            copy = nnx.merge(graphdef, state)
            copy_rngs = None if key is None else nnx.Rngs(key)
            code = copy.encode(x, train=train, rngs=copy_rngs).mean
            return code.reshape(code.shape[0], -1)

        return jacobian_frobenius_norm_sq(
            code_of, inputs, projections=projections, key=projection_key
        )
