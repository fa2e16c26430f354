"""The KL term of a VAE split into index-code mutual information, total correlation and
dimension-wise KL, estimated on a minibatch (Chen et al., 2018, "Isolating Sources of
Disentanglement in Variational Autoencoders").

With the aggregate posterior q(z) = (1/N) sum_n q(z | x_n) over the N training examples,

    E_x KL(q(z|x) || p(z)) = I_q(x; z)                      index-code mutual information
                           + KL(q(z) || prod_j q(z_j))       total correlation
                           + sum_j KL(q(z_j) || p(z_j))      dimension-wise KL.

Per posterior sample z_i ~ q(z | x_i) the three terms are
log q(z_i|x_i) - log q(z_i), log q(z_i) - sum_j log q(z_ij) and
sum_j log q(z_ij) - log p(z_i); they telescope to log q(z_i|x_i) - log p(z_i), the
one-sample estimate of the KL, whatever estimate of q stands in the middle.

q(z_i) is estimated from the batch as a mixture of its posteriors,
log q(z_i) ~ logsumexp_m (log q(z_i | x_m) + log w_im), and each marginal q(z_ij) with
the same weights, dimension by dimension:

  "mws" (minibatch weighted sampling): w_im = 1 / M for the M real examples of the
    batch. The paper writes 1 / (N M), whose weights sum to 1 / N: that shifts log q(z)
    and every log q(z_j) by -log N, so its mutual information reads log N too high, its
    total correlation (D - 1) log N too high and its dimension-wise KL D log N too low.
    The shift is a constant: gradients, hence training, are the same, and with 1 / M the
    terms are estimates of themselves (the total correlation of independent codes is
    about 0) and N is not needed. The own posterior q(z_i | x_i) is over-weighted (1 / M
    instead of 1 / N): a bias that falls as the batch grows.
  "mss" (minibatch stratified sampling, the paper's appendix): w_ii = 1 / N for the
    example's own posterior, (N - M + 1) / (N (M - 1)) for one other example and
    1 / (M - 1) for the remaining M - 2; the weights sum to 1. Needs N >= M - 1.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from aelab.core.distributions import gaussian_log_density, standard_normal_log_density

ESTIMATORS = ("mws", "mss")
_LOG_2PI = math.log(2 * math.pi)


def pairwise_log_density(z: jax.Array, mean: jax.Array, log_var: jax.Array) -> jax.Array:
    """log N(z_id; mean_md, exp(log_var_md)) of every sample under every posterior of the
    batch, per dimension.

    Args:
      z: [batch, d] one posterior sample per example.
      mean, log_var: [batch, d] the posteriors q(z | x_m).
    Returns:
      [batch (i: the sample), batch (m: the posterior), d].
    """
    diff = z[:, None, :] - mean[None, :, :]
    return -0.5 * (_LOG_2PI + log_var[None] + diff**2 * jnp.exp(-log_var[None]))


def log_mixture_weights(
    weights: jax.Array, *, estimator: str, dataset_size: int | None = None
) -> jax.Array:
    """log w_im, the weight of posterior m in the estimate of q(z_i) (module docstring).

    Padding (weight 0) contributes no posterior; a padding row gets its own posterior
    only (weight 1), so that its terms stay finite before the mask drops them.

    Args:
      weights: [batch] example weights (the mask: > 0 for real examples).
      estimator: "mws" or "mss".
      dataset_size: N, the number of training examples (needed by "mss").
    Returns:
      [batch, batch] (-inf where a posterior takes no part).
    """
    real = weights > 0
    size = weights.shape[0]
    own = jnp.eye(size, dtype=bool)
    count = jnp.sum(real)
    if estimator == "mws":
        w = jnp.broadcast_to(1.0 / jnp.maximum(count, 1), (size, size))
    elif estimator == "mss":
        if dataset_size is None or dataset_size < size - 1:
            raise ValueError(
                f"config.objective.dataset_size={dataset_size!r} is not valid with "
                f"estimator 'mss' on a batch of {size}: N, the number of training "
                f"examples, must be at least {size - 1} (the batch minus one)."
            )
        n = float(dataset_size)
        others = jnp.maximum(count - 1, 1).astype(jnp.float32)
        # Example i's stratum partner: the next real example, cyclically, in batch order.
        rank = jnp.cumsum(real) - 1
        partner = rank[None, :] == jnp.mod(rank + 1, jnp.maximum(count, 1))[:, None]
        w = jnp.where(
            own,
            1.0 / n,
            jnp.where(partner, (n - count + 1) / (n * others), 1.0 / others),
        )
    else:
        raise ValueError(
            f"config.objective.estimator={estimator!r}; choose one of {', '.join(ESTIMATORS)}."
        )
    w = jnp.where(real[None, :], w, 0.0)
    w = jnp.where(real[:, None], w, own.astype(w.dtype))
    return jnp.where(w > 0, jnp.log(jnp.where(w > 0, w, 1.0)), -jnp.inf)


def kl_decomposition(
    z: jax.Array,
    mean: jax.Array,
    log_var: jax.Array,
    weights: jax.Array,
    *,
    estimator: str = "mws",
    dataset_size: int | None = None,
) -> dict[str, jax.Array]:
    """Mutual information, total correlation and dimension-wise KL of each sample.

    Args:
      z: [batch, d] one posterior sample per example, z_i ~ q(z | x_i).
      mean, log_var: [batch, d] the diagonal Gaussian posteriors.
      weights: [batch] example weights (the mask).
      estimator: how q(z) is estimated from the batch: "mws" or "mss".
      dataset_size: N (needed by "mss").
    Returns:
      {"mutual_information", "total_correlation", "dimension_wise_kl": [batch]}; per
      example they sum to log q(z_i|x_i) - log p(z_i). Float32; the [batch, batch, d]
      densities are held in memory at once.
    """
    # float32 even under bfloat16 mixed precision: the batch's logsumexps would lose the
    # small differences between log q(z) and its marginals that the terms are made of.
    z, mean, log_var = (a.astype(jnp.float32) for a in (z, mean, log_var))
    pairwise = pairwise_log_density(z, mean, log_var)
    log_w = log_mixture_weights(weights, estimator=estimator, dataset_size=dataset_size)
    log_qz = jax.nn.logsumexp(pairwise.sum(axis=-1) + log_w, axis=1)
    log_product_of_marginals = jax.nn.logsumexp(pairwise + log_w[..., None], axis=1).sum(axis=-1)
    log_qz_given_x = gaussian_log_density(z, mean, log_var)
    log_pz = standard_normal_log_density(z)
    return {
        "mutual_information": log_qz_given_x - log_qz,
        "total_correlation": log_qz - log_product_of_marginals,
        "dimension_wise_kl": log_product_of_marginals - log_pz,
    }
