"""FactorVAE's pieces: the dimension-wise permutation, the discriminator's cross-entropy
and its total-correlation estimate."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from aelab.objectives.factor_vae import (
    TotalCorrelationDiscriminator,
    discriminator_cross_entropy,
    permute_dims,
    total_correlation_estimate,
)


def test_permutation_keeps_each_marginal_and_breaks_the_joint():
    z = jnp.asarray(np.random.default_rng(0).normal(size=(64, 5)), jnp.float32)
    permuted = np.asarray(permute_dims(z, jax.random.key(0)))
    for j in range(5):  # each column is a permutation of the same column
        np.testing.assert_array_equal(np.sort(permuted[:, j]), np.sort(np.asarray(z[:, j])))
    # ... by its own permutation: the rows are not those of z (nor one common shuffle).
    rows = {tuple(row) for row in np.asarray(z)}
    assert sum(tuple(row) in rows for row in permuted) < 8
    order = [np.argsort(np.argsort(permuted[:, j])) for j in range(5)]
    assert not all(np.array_equal(order[0], o) for o in order[1:])


def test_cross_entropy_matches_its_formula():
    real = jnp.asarray([2.0, -1.0, 0.5])
    fake = jnp.asarray([-3.0, 0.0, 1.5])
    weights = jnp.asarray([1.0, 1.0, 0.0])  # the third is padding
    sigmoid = lambda x: 1 / (1 + np.exp(-np.asarray(x)))
    expected = np.mean(
        [
            -0.5 * (np.log(sigmoid(r)) + np.log(1 - sigmoid(f)))
            for r, f in zip(real[:2], fake[:2], strict=True)
        ]
    )
    np.testing.assert_allclose(discriminator_cross_entropy(real, fake, weights), expected, 1e-6)


def _trained_tc_estimate(z: np.ndarray, steps: int = 300) -> float:
    """Trains a small discriminator on z vs its permutations; its TC estimate on z."""
    z = jnp.asarray(z, jnp.float32)
    graphdef, params = nnx.split(
        TotalCorrelationDiscriminator(z.shape[1], depth=2, width=32, rngs=nnx.Rngs(0)), nnx.Param
    )
    optimizer = optax.adam(3e-3)
    weights = jnp.ones(z.shape[0])

    def loss_fn(params, key):
        d = nnx.merge(graphdef, params)
        return discriminator_cross_entropy(d(z), d(permute_dims(z, key)), weights)

    @jax.jit
    def train(params):
        def step(carry, key):
            params, opt_state = carry
            grads = jax.grad(loss_fn)(params, key)
            updates, opt_state = optimizer.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), None

        keys = jax.random.split(jax.random.key(1), steps)
        (params, _), _ = jax.lax.scan(step, (params, optimizer.init(params)), keys)
        return jnp.mean(total_correlation_estimate(nnx.merge(graphdef, params)(z)))

    return float(train(params))


@pytest.mark.slow  # two small discriminators trained (14 s on the shared 2-core CPU)
def test_tc_estimate_is_positive_for_correlated_codes_and_near_zero_for_independent():
    rng = np.random.default_rng(0)
    independent = rng.normal(size=(512, 2))
    rho = 0.95  # TC of a bivariate Gaussian: -0.5 log(1 - rho^2) = 1.16 nats
    a = rng.normal(size=512)
    correlated = np.stack([a, rho * a + np.sqrt(1 - rho**2) * rng.normal(size=512)], axis=1)
    tc_correlated = _trained_tc_estimate(correlated)
    tc_independent = _trained_tc_estimate(independent)
    assert tc_correlated > 0.5, tc_correlated
    assert abs(tc_independent) < 0.25, tc_independent
