"""beta-TC-VAE: the ELBO with its KL term split into three weighted parts (Chen et al.,
2018, "Isolating Sources of Disentanglement in Variational Autoencoders")."""

from __future__ import annotations

import jax
from flax import nnx

from aelab.core.options import option, options_class
from aelab.objectives.base import Metrics, Objective, ObjectiveOptions, example_weights
from aelab.objectives.elbo import require_one_gaussian_latent, single_sample_elbo_terms
from aelab.objectives.registry import register_objective
from aelab.objectives.total_correlation import ESTIMATORS, kl_decomposition


@options_class
class BetaTcVaeOptions(ObjectiveOptions):
    """`config.objective` of "beta_tc_vae"."""

    alpha: float = option(1.0, "weight of the index-code mutual information I(x; z)", minimum=0.0)
    beta: float = option(
        6.0,
        "weight of the total correlation KL(q(z) || prod_j q(z_j)) (the paper keeps alpha = "
        "gamma = 1 and varies beta)",
        minimum=0.0,
    )
    gamma: float = option(
        1.0, "weight of the dimension-wise KL sum_j KL(q(z_j) || p(z_j))", minimum=0.0
    )
    estimator: str = option(
        "mws",
        "how log q(z) is estimated from the batch: 'mws' (minibatch weighted sampling) or "
        "'mss' (minibatch stratified sampling, needs dataset_size)",
        choices=ESTIMATORS,
    )
    dataset_size: int | None = option(
        None,
        "N: the number of training examples, which 'mss' weighs the batch by (at least the "
        "batch size - 1; 'mws' does not read it)",
        minimum=1,
    )

    def check(self):
        if self.estimator == "mss" and self.dataset_size is None:
            yield (
                "dataset_size",
                (
                    "must be set with config.objective.estimator='mss': set it to N, the "
                    "number of training examples"
                ),
            )


@register_objective("beta_tc_vae", options=BetaTcVaeOptions)
class BetaTcVaeObjective(Objective):
    """loss = -log p(x|z) + alpha * MI + beta * TC + gamma * DWKL, per posterior sample.

    MI = log q(z|x) - log q(z) (index-code mutual information), TC = log q(z) -
    sum_j log q(z_j) (total correlation), DWKL = sum_j log q(z_j) - log p(z_j)
    (dimension-wise KL), with q(z) the aggregate posterior estimated from the batch
    (`aelab.objectives.total_correlation`). With alpha = beta = gamma = 1 the loss is
    the one-sample Monte-Carlo -ELBO (the three terms sum to log q(z|x) - log p(z));
    with alpha = gamma = 1 and beta > 1 it penalises only the total correlation more.
    The terms are batch estimates: an example's depend on the whole batch.

    Needs a VAE with one Gaussian latent and the N(0, I) prior (dense_vae, conv_vae,
    ...). Reported per example: "loss", "elbo" and "kl" (analytic, as objective "elbo"),
    "reconstruction_nll", "mutual_information", "total_correlation",
    "dimension_wise_kl", "bits_per_dim" for discrete likelihoods, and what the model
    reports itself.
    """

    model_kind = "latent_variable"

    def __init__(
        self,
        likelihood,
        *,
        alpha: float = 1.0,
        beta: float = 6.0,
        gamma: float = 1.0,
        estimator: str = "mws",
        dataset_size: int | None = None,
        **kwargs,
    ):
        super().__init__(likelihood, **kwargs)
        self.alpha, self.beta, self.gamma = alpha, beta, gamma
        self.estimator = estimator
        self.dataset_size = dataset_size

    def per_example_terms(
        self, model: nnx.Module, batch: dict, *, rngs: nnx.Rngs | None, train: bool, step: jax.Array
    ) -> tuple[Metrics, jax.Array]:
        require_one_gaussian_latent(model, "beta_tc_vae")
        output, terms, reported_loss = single_sample_elbo_terms(
            model, batch, self.likelihood, rngs=rngs, train=train, objective="beta_tc_vae"
        )
        size = output.code.shape[0]
        parts = kl_decomposition(
            output.code.reshape(size, -1),
            output.encoding.mean.reshape(size, -1),
            output.encoding.log_var.reshape(size, -1),
            example_weights(batch),
            estimator=self.estimator,
            dataset_size=self.dataset_size,
        )
        terms.update(parts)
        terms["loss"] = (
            terms["reconstruction_nll"]
            + self.alpha * parts["mutual_information"]
            + self.beta * parts["total_correlation"]
            + self.gamma * parts["dimension_wise_kl"]
            + reported_loss
        )
        return terms, output.decoded
