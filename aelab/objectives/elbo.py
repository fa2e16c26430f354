"""The VAE objective: the negative evidence lower bound, with the beta-VAE weight on the
KL term, KL warm-up or cyclical annealing, and free bits."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from aelab.core.contract import ModelOutput, require_latent_variable_model
from aelab.core.distributions import gaussian_kl_per_dimension
from aelab.core.options import option, options_class
from aelab.objectives.base import (
    Metrics,
    Objective,
    ObjectiveOptions,
    example_weights,
    model_reported_terms,
    targets_of,
)
from aelab.objectives.likelihoods import bits_per_dim
from aelab.objectives.registry import register_objective


@options_class
class ElboOptions(ObjectiveOptions):
    """`config.objective` of "elbo"."""

    beta: float = option(1.0, "weight of the KL term (beta-VAE; 1: the ELBO)", minimum=0.0)
    kl_warmup_steps: int = option(
        0, "steps of the linear KL warm-up from 0 to beta (0: none)", minimum=0
    )
    kl_cycle_steps: int = option(
        0, "cyclical annealing: the warm-up restarts every this many steps (0: none)", minimum=0
    )
    free_bits: float = option(
        0.0, "nats per latent group that cost nothing (Kingma et al. 2016; 0: none)", minimum=0.0
    )
    num_samples: int = option(
        1, "posterior samples the reconstruction term averages (one Gaussian latent)", minimum=1
    )

    def check(self):
        if self.kl_cycle_steps and not 0 < self.kl_warmup_steps <= self.kl_cycle_steps:
            yield (
                "kl_cycle_steps",
                (
                    f"needs 0 < config.objective.kl_warmup_steps <= kl_cycle_steps (got "
                    f"kl_warmup_steps={self.kl_warmup_steps})"
                ),
            )


def kl_weight(
    step: jax.Array | int, *, beta: float, warmup_steps: int = 0, cycle_steps: int = 0
) -> jax.Array:
    """The weight of the KL term at `step`: scalar.

    beta * min(1, t / warmup_steps), with t = step (KL warm-up, Bowman et al., 2016;
    Sønderby et al., 2016) or t = step mod cycle_steps (cyclical annealing, Fu et al.,
    2019: the ramp restarts every cycle). warmup_steps=0: a constant beta.
    """
    t = jnp.asarray(step, jnp.float32)
    if cycle_steps:
        t = jnp.mod(t, cycle_steps)
    if not warmup_steps:
        return jnp.asarray(beta, jnp.float32)
    return beta * jnp.minimum(1.0, t / warmup_steps)


def free_bits_kl(kl_groups: jax.Array, weights: jax.Array, free_bits: float) -> jax.Array:
    """Per-example KL terms whose batch mean is sum_g max(free_bits, mean_batch KL_g).

    Free bits (Kingma et al., 2016, IAF): a group of latent units whose batch-averaged
    KL is under `free_bits` nats costs a constant and gets no gradient, so the model can
    use that much information for free.

    Args:
      kl_groups: [batch, groups] KL per example and group.
      weights: [batch] example weights (the mask).
      free_bits: lambda, nats per group.
    Returns:
      [batch].
    """
    group_means = jnp.sum(kl_groups * weights[:, None], axis=0) / jnp.maximum(jnp.sum(weights), 1.0)
    active = group_means > free_bits
    return jnp.sum(jnp.where(active[None, :], kl_groups, free_bits), axis=-1)


def check_variational(model: nnx.Module, objective: str, rngs: nnx.Rngs | None) -> None:
    """Clear errors for a model or call an objective over posterior samples cannot use."""
    if rngs is None:
        raise ValueError(f"Objective {objective!r} needs rngs to sample the posterior.")
    require_latent_variable_model(model, f"objective {objective!r}")


def single_sample_elbo_terms(
    model: nnx.Module,
    batch: dict,
    likelihood,
    *,
    rngs: nnx.Rngs | None,
    train: bool,
    objective: str,
) -> tuple[ModelOutput, Metrics, jax.Array]:
    """The ELBO's parts from one posterior sample per example, for objectives that add
    their own terms to it (beta-TC-VAE, DIP-VAE, the annealed-capacity VAE).

    Args:
      model: a latent-variable model.
      batch: "inputs" [batch, *data_shape], optionally "targets" and "mask".
      likelihood: scores the decoder output against the targets.
      objective: the objective's name, for errors.
    Returns:
      (the model's output on the inputs (`output.code` is the posterior sample that was
      decoded); {name: [batch]}: "elbo" (nats, higher is better), "kl" (the sum of
      `kl_terms`), "reconstruction_nll", "bits_per_dim" of -ELBO for discrete
      likelihoods, and what the model reports itself; [batch] the sum of the losses the
      model reports (zeros if none), which the objective's loss must include).
    """
    check_variational(model, objective, rngs)
    targets = targets_of(batch)
    output = model(batch["inputs"], train=train, rngs=rngs)
    nll = -likelihood.log_prob(output.decoded, targets)
    kl = model.kl_terms(output).sum(axis=-1)
    terms = {"elbo": -(nll + kl), "kl": kl, "reconstruction_nll": nll}
    if likelihood.is_discrete:
        terms["bits_per_dim"] = bits_per_dim(nll + kl, targets.shape[1:])
    reported_loss, reported = model_reported_terms(output.encoding)
    terms.update(reported)
    if reported_loss is None:
        reported_loss = jnp.zeros_like(nll)
    return output, terms, reported_loss


def require_one_gaussian_latent(model: nnx.Module, objective: str) -> None:
    """A ValueError naming `objective` unless the model is a VAE with one diagonal Gaussian
    latent and the N(0, I) prior (one stochastic layer, no flow: `analytic_kl`)."""
    require_latent_variable_model(model, f"objective {objective!r}")
    if model.num_stochastic_layers != 1:
        raise ValueError(
            f"Objective {objective!r} needs one Gaussian latent with the N(0, I) prior; "
            f"{type(model).__name__} has {model.num_stochastic_layers} stochastic layers. "
            "Use a one-latent VAE (dense_vae, conv_vae, ...)."
        )
    if not has_analytic_kl(model):
        raise ValueError(
            f"Objective {objective!r} needs one Gaussian latent with the N(0, I) prior; "
            f"this {type(model).__name__} has config.model.prior="
            f"{model.prior.name!r} and posterior {_posterior_name(model)!r}. Use "
            "prior='standard' and posterior='gaussian'."
        )


def has_analytic_kl(model: nnx.Module) -> bool:
    """Whether the model declares its KL analytic (`GaussianVAE.analytic_kl`: one Gaussian
    latent, the N(0, I) prior); models that do not declare it are taken not to be."""
    return bool(getattr(model, "analytic_kl", False))


def _posterior_name(model: nnx.Module) -> str:
    return "gaussian" if getattr(model, "flow", None) is None else "iaf"


@register_objective("elbo", options=ElboOptions)
class ElboObjective(Objective):
    """-ELBO = E_q[-log p(x|z)] + w(step) * KL(q(z|x) || p(z)), the expectation estimated
    with `num_samples` posterior samples (1 by default; the IWAE paper's "VAE with k
    samples" averages k).

    The KL comes from the model's `kl_terms(output)` ([batch, groups]: the analytic
    Gaussian KL per latent dimension, or one Monte-Carlo estimate per stochastic layer
    of a two-layer VAE, or of the whole latent with a learned prior or an IAF
    posterior). w(step) is `kl_weight` (beta, warm-up, cycles); with `free_bits` > 0
    each group's batch-mean KL is floored (`free_bits_kl`).

    Reported per example: "loss", "elbo" (beta = 1, no free bits, in nats: higher is
    better), "kl", "reconstruction_nll", "kl_weight" when it varies, "bits_per_dim"
    (-ELBO in bits per data dimension) for discrete likelihoods, and what the model
    reports itself. With a Bernoulli or Gaussian likelihood the ELBO is a bound on
    log p(x); with "mse" it is not normalised.
    """

    model_kind = "latent_variable"

    def __init__(
        self,
        likelihood,
        *,
        beta: float = 1.0,
        kl_warmup_steps: int = 0,
        kl_cycle_steps: int = 0,
        free_bits: float = 0.0,
        num_samples: int = 1,
        **kwargs,
    ):
        super().__init__(likelihood, **kwargs)
        self.beta = beta
        self.kl_warmup_steps = kl_warmup_steps
        self.kl_cycle_steps = kl_cycle_steps
        self.free_bits = free_bits
        self.num_samples = num_samples

    def per_example_terms(
        self, model: nnx.Module, batch: dict, *, rngs: nnx.Rngs | None, train: bool, step: jax.Array
    ) -> tuple[Metrics, jax.Array]:
        check_variational(model, "elbo", rngs)
        targets = targets_of(batch)
        if self.num_samples == 1:
            output = model(batch["inputs"], train=train, rngs=rngs)
            encoding, decoded = output.encoding, output.decoded
            nll = -self.likelihood.log_prob(decoded, targets)
            kl_groups = model.kl_terms(output)
        else:
            if not has_analytic_kl(model):
                raise ValueError(
                    f"config.objective.num_samples={self.num_samples} averages the ELBO over "
                    "posterior samples of one Gaussian latent with the N(0, I) prior (the "
                    f"KL analytic); this {type(model).__name__} has several stochastic "
                    "layers, another prior or a flow posterior. Use num_samples=1 or "
                    "objective 'iwae'."
                )
            encoding, decoded, nll = self._multi_sample_nll(model, batch, rngs=rngs, train=train)
            kl_groups = gaussian_kl_per_dimension(encoding.mean, encoding.log_var)
        kl = kl_groups.sum(axis=-1)
        weight = kl_weight(
            step,
            beta=self.beta,
            warmup_steps=self.kl_warmup_steps,
            cycle_steps=self.kl_cycle_steps,
        )
        penalised_kl = (
            free_bits_kl(kl_groups, example_weights(batch), self.free_bits)
            if self.free_bits > 0
            else kl
        )
        terms = {
            "loss": nll + weight * penalised_kl,
            "elbo": -(nll + kl),
            "kl": kl,
            "reconstruction_nll": nll,
        }
        if self.kl_warmup_steps:
            terms["kl_weight"] = jnp.full(nll.shape, weight)
        if self.likelihood.is_discrete:
            terms["bits_per_dim"] = bits_per_dim(nll + kl, targets.shape[1:])
        reported_loss, reported = model_reported_terms(encoding)
        terms.update(reported)
        if reported_loss is not None:
            terms["loss"] = terms["loss"] + reported_loss
        return terms, decoded

    def _multi_sample_nll(self, model, batch, *, rngs, train):
        """(encoding, decoded of the first sample, mean over samples of -log p(x|z)) [b]."""
        encoding = model.encode(batch["inputs"], train=train, rngs=rngs)
        z = model.sample_posterior(encoding, rngs, self.num_samples)  # [k, b, ...]
        k, b = z.shape[:2]
        decoded = model.decode(z.reshape(k * b, *z.shape[2:]), train=train, rngs=rngs)
        targets = targets_of(batch)
        targets = jnp.broadcast_to(targets, (k, *targets.shape)).reshape(k * b, *targets.shape[1:])
        nll = -self.likelihood.log_prob(decoded, targets).reshape(k, b).mean(axis=0)
        return encoding, decoded.reshape(k, b, *decoded.shape[1:])[0], nll
