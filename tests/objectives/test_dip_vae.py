"""DIP-VAE I and II: the covariance penalty against NumPy, and the objective against its
definition."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from flax import nnx

from aelab.models import build_model
from aelab.objectives import build_objective
from aelab.objectives.dip_vae import dip_covariance, dip_penalty_parts

# Four means with mean 0 and covariance I (the corners of a square).
_CORNERS = jnp.array([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]])


def test_an_identity_covariance_costs_nothing():
    ones = jnp.ones(4)
    covariance = dip_covariance(_CORNERS, jnp.full((4, 2), -30.0), ones, kind="i")
    np.testing.assert_allclose(covariance, np.eye(2), atol=1e-6)
    np.testing.assert_allclose(dip_penalty_parts(covariance), (0.0, 0.0), atol=1e-6)
    # kind "ii" adds the mean posterior variance: Cov[mu] = I / 2 plus E[Sigma] = I / 2.
    half = dip_covariance(_CORNERS / np.sqrt(2.0), jnp.full((4, 2), np.log(0.5)), ones, kind="ii")
    np.testing.assert_allclose(dip_penalty_parts(half), (0.0, 0.0), atol=1e-6)


def test_correlated_means_cost_their_squared_covariance():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(64, 1))
    mean = np.concatenate([base, 0.5 * base + 0.1 * rng.normal(size=(64, 1))], axis=1)
    log_var = np.log(rng.uniform(0.1, 0.5, size=(64, 2)))
    for kind in ("i", "ii"):
        covariance = dip_covariance(
            jnp.asarray(mean), jnp.asarray(log_var), jnp.ones(64), kind=kind
        )
        expected = np.cov(mean, rowvar=False, bias=True)
        if kind == "ii":
            expected = expected + np.diag(np.exp(log_var).mean(axis=0))
        np.testing.assert_allclose(covariance, expected, rtol=1e-5)
        off_diagonal, diagonal = dip_penalty_parts(covariance)
        np.testing.assert_allclose(off_diagonal, 2 * expected[0, 1] ** 2, rtol=1e-5)
        np.testing.assert_allclose(diagonal, np.sum((np.diag(expected) - 1) ** 2), rtol=1e-5)
        assert off_diagonal > 0.1


def test_padding_takes_no_part():
    padded = jnp.concatenate([_CORNERS, jnp.full((2, 2), 5.0)])
    mask = jnp.array([1, 1, 1, 1, 0, 0.0])
    covariance = dip_covariance(padded, jnp.zeros((6, 2)), mask, kind="ii")
    np.testing.assert_allclose(covariance, 2 * np.eye(2), atol=1e-6)


def _objective(**fields):
    return build_objective(
        ml_collections.ConfigDict({"name": "dip_vae", "likelihood": "bernoulli", **fields})
    )


def _vae(name="dense_vae", **fields):
    config = ml_collections.ConfigDict({"name": name, "hidden_dims": (8,), "latent_dim": 3})
    config.update(fields)
    return build_model(config, (6,), rngs=nnx.Rngs(0))


@pytest.mark.parametrize("kind", ["i", "ii"])
def test_the_loss_is_the_negative_elbo_plus_the_weighted_parts(kind):
    objective = _objective(kind=kind, lambda_od=3.0, lambda_d=7.0)
    model = _vae()
    x = jax.random.bernoulli(jax.random.PRNGKey(1), 0.5, (8, 6)).astype(jnp.float32)
    loss, metrics = objective(model, {"inputs": x}, rngs=nnx.Rngs(2), train=False)
    np.testing.assert_allclose(
        loss,
        -metrics["elbo"] + 3.0 * metrics["dip_off_diagonal"] + 7.0 * metrics["dip_diagonal"],
        rtol=1e-5,
    )
    np.testing.assert_allclose(loss, -metrics["elbo"] + metrics["dip_penalty"], rtol=1e-5)
    # The parts are those of the encoder's covariance on this batch.
    encoding = model.encode(x)
    covariance = dip_covariance(encoding.mean, encoding.log_var, jnp.ones(8), kind=kind)
    parts = dip_penalty_parts(covariance)
    np.testing.assert_allclose(
        (metrics["dip_off_diagonal"], metrics["dip_diagonal"]), parts, rtol=1e-5
    )


def test_the_diagonal_weight_follows_the_papers_ratio_unless_set():
    assert _objective(kind="i").lambda_d == 100.0
    assert _objective(kind="ii", lambda_od=5.0).lambda_d == 5.0
    assert _objective(kind="i", lambda_d=2.0).lambda_d == 2.0


def test_bad_options_and_models_are_named():
    with pytest.raises(ValueError, match=r"config.objective.kind='iii' is not valid"):
        _objective(kind="iii")
    model = _vae("dense_2layer_vae", top_hidden_dims=(4,), top_latent_dim=2)
    with pytest.raises(ValueError, match="one Gaussian latent"):
        _objective()(model, {"inputs": jnp.ones((4, 6))}, rngs=nnx.Rngs(0), train=False)


def test_bfloat16_means_give_a_float32_covariance():
    covariance = dip_covariance(
        _CORNERS.astype(jnp.bfloat16), jnp.zeros((4, 2), jnp.bfloat16), jnp.ones(4), kind="i"
    )
    assert covariance.dtype == jnp.float32
    np.testing.assert_allclose(covariance, np.eye(2), atol=1e-6)
