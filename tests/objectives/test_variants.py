"""The VAE and autoencoder variants against their definitions: IWAE, discretised
logistic, beta schedules and free bits, code penalties (sparse, contractive), MMD."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from flax import nnx

from aelab.models import build_model
from aelab.objectives import build_likelihood, build_objective
from aelab.objectives.bounds import iwae_bound, log_importance_weights
from aelab.objectives.code_penalties import bernoulli_kl, jacobian_frobenius_norm_sq, sparsity_kl
from aelab.objectives.elbo import free_bits_kl, kl_weight
from aelab.objectives.mmd import mmd_squared


def _model(name, input_shape=(6,), **fields):
    config = ml_collections.ConfigDict({"name": name, "hidden_dims": (8,), "latent_dim": 2})
    config.update(fields)
    return build_model(config, input_shape, rngs=nnx.Rngs(0))


def _objective(**fields):
    return build_objective(ml_collections.ConfigDict({"likelihood": "bernoulli", **fields}))


def _binary(shape, seed=1):
    return jax.random.bernoulli(jax.random.PRNGKey(seed), 0.5, shape).astype(jnp.float32)


@pytest.mark.parametrize("model_name", ["dense_vae", "dense_2layer_vae"])
def test_iwae_objective_at_k1_is_the_single_sample_elbo(model_name):
    model = _model(model_name, top_hidden_dims=(4,), top_latent_dim=2)
    x = _binary((5, 6))
    loss, metrics = _objective(name="iwae", num_samples=1)(
        model, {"inputs": x}, rngs=nnx.Rngs(3), train=False
    )
    log_w = log_importance_weights(
        model, x, build_likelihood("bernoulli"), rngs=nnx.Rngs(3), num_samples=1
    )
    np.testing.assert_allclose(loss, -log_w.mean(), rtol=1e-6)
    np.testing.assert_allclose(metrics["iwae_bound"], metrics["elbo"], rtol=1e-6)


@pytest.mark.parametrize("model_name", ["dense_vae", "dense_2layer_vae"])
def test_iwae_bound_is_at_least_the_elbo_of_the_same_samples(model_name):
    model = _model(model_name, top_hidden_dims=(4,), top_latent_dim=2)
    x = _binary((5, 6))
    _, metrics = _objective(name="iwae", num_samples=50)(
        model, {"inputs": x}, rngs=nnx.Rngs(3), train=False
    )
    assert float(metrics["iwae_bound"]) >= float(metrics["elbo"])
    log_w = log_importance_weights(
        model, x, build_likelihood("bernoulli"), rngs=nnx.Rngs(4), num_samples=50
    )
    assert log_w.shape == (50, 5)
    assert np.all(np.asarray(iwae_bound(log_w)) >= np.asarray(log_w.mean(axis=0)) - 1e-6)


def test_two_layer_kl_terms_match_its_log_weights():
    """For one joint sample, log w = log p(x|z1) - (both layers' KL estimates)."""
    model = _model("dense_2layer_vae", top_hidden_dims=(4,), top_latent_dim=2)
    likelihood = build_likelihood("bernoulli")
    x = _binary((4, 6))
    output = model(x, rngs=nnx.Rngs(7))
    kl = model.kl_terms(output)
    assert kl.shape == (4, 2)
    log_px = likelihood.log_prob(output.decoded, x)
    # Recompute the same joint sample's log weight from the densities in `extras`.
    from aelab.core.distributions import gaussian_log_density, standard_normal_log_density

    extras = output.encoding.extras
    log_w = (
        log_px
        + gaussian_log_density(output.code, extras["prior_mean"], extras["prior_log_var"])
        + standard_normal_log_density(extras["z2"])
        - gaussian_log_density(output.code, output.encoding.mean, output.encoding.log_var)
        - gaussian_log_density(extras["z2"], extras["top_mean"], extras["top_log_var"])
    )
    np.testing.assert_allclose(log_px - kl.sum(-1), log_w, rtol=1e-5, atol=1e-5)
    # The ELBO objective uses these KL terms.
    _, metrics = _objective(name="elbo")(model, {"inputs": x}, rngs=nnx.Rngs(7), train=False)
    np.testing.assert_allclose(metrics["kl"], kl.sum(-1).mean(), rtol=1e-5)


@pytest.mark.parametrize("scale", [0.01, 0.05, 0.3])
@pytest.mark.parametrize("mean", [-0.2, 0.0, 0.37, 1.0, 1.3])
def test_discretized_logistic_sums_to_one_over_the_256_levels(mean, scale):
    likelihood = build_likelihood("discretized_logistic")
    levels = jnp.arange(256, dtype=jnp.float32)[:, None] / 255.0  # 256 one-dim examples
    decoded = jnp.concatenate(
        [jnp.full_like(levels, mean), jnp.full_like(levels, np.log(scale))], axis=-1
    )
    log_p = likelihood.log_prob(decoded, levels)
    assert log_p.shape == (256,)
    np.testing.assert_allclose(float(jnp.sum(jnp.exp(log_p))), 1.0, atol=2e-4)


@pytest.mark.slow
def test_discretized_logistic_elbo_reports_bits_per_dim():
    x = jnp.round(jax.random.uniform(jax.random.PRNGKey(0), (4, 3, 2, 1)) * 255) / 255
    objective = build_objective(
        ml_collections.ConfigDict({"name": "elbo", "likelihood": "discretized_logistic"})
    )
    model = build_model(
        ml_collections.ConfigDict({"name": "dense_vae", "hidden_dims": (8,), "latent_dim": 2}),
        (3, 2, 1),
        objective.decoder_output_shape((3, 2, 1)),
        rngs=nnx.Rngs(0),
    )
    _, metrics = objective(model, {"inputs": x}, rngs=nnx.Rngs(1), train=False)
    np.testing.assert_allclose(
        metrics["bits_per_dim"], -metrics["elbo"] / (6 * np.log(2)), rtol=1e-5
    )


def test_kl_weight_warms_up_and_cycles():
    assert float(kl_weight(500, beta=4.0)) == 4.0
    assert float(kl_weight(0, beta=1.0, warmup_steps=100)) == 0.0
    assert float(kl_weight(50, beta=2.0, warmup_steps=100)) == pytest.approx(1.0)
    assert float(kl_weight(300, beta=2.0, warmup_steps=100)) == pytest.approx(2.0)
    cyclic = [
        float(kl_weight(s, beta=1.0, warmup_steps=50, cycle_steps=100)) for s in (25, 75, 125)
    ]
    assert cyclic == pytest.approx([0.5, 1.0, 0.5])


def test_kl_warmup_scales_the_loss_by_step():
    objective = _objective(name="elbo", kl_warmup_steps=10)
    model = _model("dense_vae")
    batch = {"inputs": _binary((4, 6))}
    _, at_start = objective(model, batch, rngs=nnx.Rngs(2), train=False, step=0)
    _, halfway = objective(model, batch, rngs=nnx.Rngs(2), train=False, step=5)
    np.testing.assert_allclose(at_start["loss"], at_start["reconstruction_nll"], rtol=1e-6)
    np.testing.assert_allclose(
        halfway["loss"], halfway["reconstruction_nll"] + 0.5 * halfway["kl"], rtol=1e-6
    )


def test_free_bits_floor_each_group_mean():
    kl = jnp.array([[0.1, 2.0, 0.5], [0.3, 4.0, 0.9]])
    weights = jnp.ones(2)
    per_example = free_bits_kl(kl, weights, free_bits=0.5)
    # Group means (0.2, 3.0, 0.7): the first is floored to 0.5.
    np.testing.assert_allclose(per_example.mean(), 0.5 + 3.0 + 0.7, rtol=1e-6)
    grad = jax.grad(lambda k: free_bits_kl(k, weights, 0.5).mean())(kl)
    np.testing.assert_allclose(grad[:, 0], 0.0)  # no gradient under the floor
    np.testing.assert_allclose(grad[:, 1:], 0.5)
    # Padding rows do not count.
    padded = jnp.concatenate([kl, jnp.full((1, 3), 100.0)])
    mask = jnp.array([1.0, 1.0, 0.0])
    masked = free_bits_kl(padded, mask, 0.5)
    np.testing.assert_allclose(jnp.sum(masked * mask) / 2, 0.5 + 3.0 + 0.7, rtol=1e-6)


def test_sparsity_kl_matches_its_definition_and_ignores_padding():
    code = jnp.array([[0.0, 2.0], [-1.0, 1.0], [9.0, 9.0]])
    batch = {"inputs": jnp.zeros((3, 1)), "mask": jnp.array([1.0, 1.0, 0.0])}
    rate = jax.nn.sigmoid(code[:2]).mean(axis=0)
    expected = np.sum(0.1 * np.log(0.1 / rate) + 0.9 * np.log(0.9 / (1 - rate)))
    np.testing.assert_allclose(sparsity_kl(code, batch, 0.1), [expected] * 3, rtol=1e-5)
    assert float(bernoulli_kl(0.3, jnp.array(0.3))) == pytest.approx(0.0, abs=1e-7)


def test_sparse_objective_adds_its_penalties():
    plain = _objective(name="reconstruction")
    sparse = _objective(name="reconstruction", code_l1_weight=0.5, sparsity_weight=2.0)
    model = _model("dense_ae")
    batch = {"inputs": _binary((4, 6))}
    loss_plain, _ = plain(model, batch, rngs=None, train=False)
    loss_sparse, metrics = sparse(model, batch, rngs=None, train=False)
    np.testing.assert_allclose(
        loss_sparse - loss_plain,
        0.5 * metrics["code_l1"] + 2.0 * metrics["sparsity_kl"],
        rtol=1e-5,
    )


def test_contractive_penalty_equals_a_finite_difference_jacobian_norm():
    model = _model("dense_ae", activation="tanh")
    x = jax.random.uniform(jax.random.PRNGKey(0), (3, 6))

    def code_of(x):
        return model.encode(x).mean

    penalty = jacobian_frobenius_norm_sq(code_of, x)
    eps = 1e-2
    expected = []
    for i in range(3):
        columns = []
        for j in range(6):
            step = jnp.zeros(6).at[j].set(eps)
            plus, minus = code_of((x[i] + step)[None]), code_of((x[i] - step)[None])
            columns.append((plus - minus)[0] / (2 * eps))
        expected.append(float(jnp.sum(jnp.stack(columns) ** 2)))
    np.testing.assert_allclose(penalty, expected, rtol=2e-3)
    # The objective adds weight * penalty to the loss.
    objective = _objective(name="reconstruction", likelihood="mse", contractive_weight=0.1)
    loss, metrics = objective(model, {"inputs": x}, rngs=nnx.Rngs(0), train=True)
    np.testing.assert_allclose(metrics["contractive_penalty"], np.mean(expected), rtol=2e-3)
    np.testing.assert_allclose(
        loss, metrics["reconstruction_nll"] + 0.1 * metrics["contractive_penalty"], rtol=1e-5
    )


def test_contractive_projections_estimate_the_exact_norm_without_bias():
    model = _model("dense_ae", activation="tanh", latent_dim=5)
    x = jax.random.uniform(jax.random.PRNGKey(0), (4, 6))

    def code_of(x):
        return model.encode(x).mean

    exact = jacobian_frobenius_norm_sq(code_of, x)
    keys = jax.random.split(jax.random.PRNGKey(1), 4000)
    draws = jax.vmap(lambda k: jacobian_frobenius_norm_sq(code_of, x, projections=2, key=k))(keys)
    assert draws.shape == (4000, 4)
    # Each draw differs from the exact norm, their mean converges to it (Hutchinson).
    assert float(jnp.max(jnp.abs(draws[0] - exact) / exact)) > 1e-3
    np.testing.assert_allclose(draws.mean(axis=0), exact, rtol=0.03)
    with pytest.raises(ValueError, match="need a PRNG key"):
        jacobian_frobenius_norm_sq(code_of, x, projections=2)


def test_contractive_objective_estimates_in_training_and_is_exact_in_evaluation():
    model = _model("dense_ae", activation="tanh", latent_dim=5)
    x = jax.random.uniform(jax.random.PRNGKey(0), (4, 6))
    exact = float(jnp.mean(jacobian_frobenius_norm_sq(lambda v: model.encode(v).mean, x)))
    objective = _objective(
        name="reconstruction", likelihood="mse", contractive_weight=0.1, contractive_projections=1
    )
    _, trained = objective(model, {"inputs": x}, rngs=nnx.Rngs(0), train=True)
    _, evaluated = objective(model, {"inputs": x}, rngs=nnx.Rngs(0), train=False)
    assert abs(float(trained["contractive_penalty"]) - exact) > 1e-4 * exact
    np.testing.assert_allclose(evaluated["contractive_penalty"], exact, rtol=1e-5)


def test_mmd_is_small_for_matching_samples_and_large_for_shifted_ones():
    key_a, key_b = jax.random.split(jax.random.PRNGKey(0))
    a = jax.random.normal(key_a, (256, 4))
    b = jax.random.normal(key_b, (256, 4))
    ones = jnp.ones(256)
    same = float(mmd_squared(a, b, ones))
    shifted = float(mmd_squared(a + 1.5, b, ones))
    assert abs(same) < 0.02 < shifted
    for kernel in ("imq", "rbf"):
        assert float(mmd_squared(a + 1.5, b, ones, kernel=kernel)) > 0.05
    # Zero-weight rows (padding) are ignored: same as dropping them.
    mask = jnp.concatenate([jnp.ones(200), jnp.zeros(56)])
    np.testing.assert_allclose(
        mmd_squared(a, b, mask), mmd_squared(a[:200], b[:200], jnp.ones(200)), rtol=1e-4
    )


def test_wae_objective_adds_the_weighted_mmd():
    objective = _objective(name="wae_mmd", mmd_weight=3.0)
    model = _model("dense_ae")
    loss, metrics = objective(model, {"inputs": _binary((8, 6))}, rngs=nnx.Rngs(0), train=True)
    np.testing.assert_allclose(
        loss, metrics["reconstruction_nll"] + 3.0 * metrics["mmd"], rtol=1e-5
    )
    with pytest.raises(ValueError, match="needs rngs"):
        objective(model, {"inputs": _binary((8, 6))}, rngs=None, train=False)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"name": "iwae", "num_samples": 0}, r"num_samples=0 is not valid: must be an integer"),
        ({"name": "wae_mmd", "mmd_kernel": "cosine"}, "mmd_kernel"),
        ({"name": "reconstruction", "sparsity_target": 1.5}, "sparsity_target"),
        ({"name": "elbo", "kl_cycle_steps": 100}, "kl_warmup_steps"),
        ({"name": "elbo", "likelihood": "poisson"}, "Valid likelihood names"),
    ],
)
def test_bad_objective_options_are_named(fields, message):
    with pytest.raises(ValueError, match=message):
        _objective(**fields)
