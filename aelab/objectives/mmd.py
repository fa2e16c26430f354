"""Maximum mean discrepancy between two samples, with weights for padded batches."""

from __future__ import annotations

import jax
import jax.numpy as jnp

KERNELS = ("imq", "rbf")
# Kernel widths as multiples of 2 * d * prior_var, the WAE paper's range for IMQ.
_IMQ_SCALES = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)


def _squared_distances(a: jax.Array, b: jax.Array) -> jax.Array:
    return jnp.sum(a**2, -1)[:, None] + jnp.sum(b**2, -1)[None, :] - 2 * a @ b.T


def kernel_matrix(a: jax.Array, b: jax.Array, *, kernel: str, prior_var: float) -> jax.Array:
    """k(a_i, b_j): [n, d], [m, d] -> [n, m].

    "imq": sum over scales s of C_s / (C_s + ||a - b||^2), C_s = 2 d prior_var s
    (inverse multiquadratics, Tolstikhin et al., 2018); "rbf": exp(-||a - b||^2 / C),
    C = 2 d prior_var.
    """
    d2 = _squared_distances(a, b)
    base = 2.0 * a.shape[-1] * prior_var
    if kernel == "imq":
        return sum(base * s / (base * s + d2) for s in _IMQ_SCALES)
    if kernel == "rbf":
        return jnp.exp(-d2 / base)
    raise ValueError(f"config.objective.mmd_kernel={kernel!r}; choose one of {', '.join(KERNELS)}.")


def mmd_squared(
    z: jax.Array,
    prior_z: jax.Array,
    weights: jax.Array,
    *,
    kernel: str = "imq",
    prior_var: float = 1.0,
) -> jax.Array:
    """The unbiased (U-statistic) estimate of MMD^2 between the codes z [n, d] and prior
    samples prior_z [n, d], each pair weighted by the product of example weights [n]
    (0 for padding): scalar.

    MMD^2 = E k(z, z') + E k(p, p') - 2 E k(z, p), same-sample pairs i = j excluded.
    """
    w = weights.astype(z.dtype)
    off_diagonal = jnp.outer(w, w) * (1.0 - jnp.eye(z.shape[0], dtype=z.dtype))
    pair_total = jnp.maximum(jnp.sum(off_diagonal), 1.0)
    k_zz = jnp.sum(kernel_matrix(z, z, kernel=kernel, prior_var=prior_var) * off_diagonal)
    k_pp = jnp.sum(
        kernel_matrix(prior_z, prior_z, kernel=kernel, prior_var=prior_var) * off_diagonal
    )
    cross = kernel_matrix(z, prior_z, kernel=kernel, prior_var=prior_var) * jnp.outer(w, w)
    k_zp = jnp.sum(cross) / jnp.maximum(jnp.sum(w) ** 2, 1.0)
    return (k_zz + k_pp) / pair_total - 2.0 * k_zp
