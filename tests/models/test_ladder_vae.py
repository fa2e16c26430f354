"""The ladder VAE's math: its KL terms are the ELBO's, its log importance weights
average to the same ELBO, the IWAE bound tightens with k, and the hierarchy is top
down (aelab/models/ladder_vae.py).

Each compiles a model or an objective, so all but the cheapest run in the slow tier
(`python -m pytest -m slow tests/models/test_ladder_vae.py`); the every-model tests
cover both names' shapes in the default tier.
"""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest
from flax import nnx

import aelab.models as models
from aelab.core.errors import ConfigError
from aelab.objectives import build_objective
from aelab.objectives.bounds import iwae_bound

BATCH = 4


def _objective(**fields):
    return build_objective(
        ml_collections.ConfigDict({"name": "elbo", "likelihood": "bernoulli", **fields})
    )


def _model(name="dense_ladder_vae", posterior="residual", scale=0.1, **fields):
    """The tiny model with every parameter perturbed by `scale` * N(0, 1): the residual
    cells and the prior and posterior heads start at zero, where the layers would not
    interact."""
    config, input_shape, _ = models.tiny_setup(name)
    config.merge = posterior
    config.update(fields)
    model = models.build_model(config, input_shape, rngs=nnx.Rngs(0))
    params = nnx.state(model, nnx.Param)
    leaves, treedef = jax.tree.flatten(params)
    keys = jax.random.split(jax.random.key(1), len(leaves))
    leaves = [p + scale * jax.random.normal(k, p.shape) for p, k in zip(leaves, keys, strict=True)]
    nnx.update(model, jax.tree.unflatten(treedef, leaves))
    return model, input_shape


def _binary_batch(input_shape, seed=0):
    x = jax.random.bernoulli(jax.random.key(seed), 0.3, (BATCH, *input_shape))
    return x.astype(jnp.float32)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["dense_ladder_vae", "conv_ladder_vae"])
def test_kl_has_one_group_per_layer_and_sums_to_the_elbo_kl(name):
    model, input_shape = _model(name)
    x = _binary_batch(input_shape)
    objective = _objective()

    @nnx.jit
    def terms_and_kl(model, x):
        terms, _ = objective.per_example_terms(
            model, {"inputs": x}, rngs=nnx.Rngs(3), train=False, step=0
        )
        output = model(x, rngs=nnx.Rngs(3))  # the same posterior sample
        nll = -objective.likelihood.log_prob(output.decoded, x)
        return terms, model.kl_terms(output), nll

    terms, kl, nll = terms_and_kl(model, x)
    assert kl.shape == (BATCH, 3)
    assert np.all(np.asarray(kl) >= 0)
    np.testing.assert_allclose(kl.sum(axis=-1), terms["kl"], rtol=1e-5)
    np.testing.assert_allclose(terms["elbo"], -(nll + kl.sum(axis=-1)), rtol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("posterior", ["residual", "precision_weighted"])
def test_log_weights_average_to_the_elbo_of_the_analytic_kl(posterior):
    """E_q[log w] = E_q[log p(x|z)] - sum_i E_q[KL_i]: the Monte-Carlo log densities of
    `log_importance_weights` against the analytic per-layer KL of `kl_terms`."""
    model, input_shape = _model(posterior=posterior)
    x = _binary_batch(input_shape)
    likelihood = _objective().likelihood
    n = 1000

    @nnx.jit
    def log_weights_and_elbos(model, x):
        log_w = model.log_importance_weights(x, likelihood, rngs=nnx.Rngs(5), num_samples=n)

        def elbo(key):
            output = model(x, rngs=nnx.Rngs(key))
            return likelihood.log_prob(output.decoded, x) - model.kl_terms(output).sum(axis=-1)

        return log_w, jax.vmap(elbo)(jax.random.split(jax.random.key(7), n))

    log_w, elbos = map(np.asarray, log_weights_and_elbos(model, x))
    standard_error = np.sqrt((log_w.var(axis=0) + elbos.var(axis=0)) / n)
    difference = np.abs(log_w.mean(axis=0) - elbos.mean(axis=0))
    assert np.all(difference < 5 * standard_error + 1e-3), (difference, standard_error)


@pytest.mark.slow
def test_the_iwae_bound_tightens_with_k():
    model, input_shape = _model()
    x = _binary_batch(input_shape)
    likelihood = _objective().likelihood
    log_w = nnx.jit(
        lambda model, x: model.log_importance_weights(
            x, likelihood, rngs=nnx.Rngs(2), num_samples=1000
        )
    )(model, x)
    bounds = [
        float(jnp.mean(jax.vmap(iwae_bound, in_axes=1)(log_w.reshape(k, 1000 // k, BATCH))))
        for k in (1, 10, 100, 1000)
    ]
    assert bounds == sorted(bounds) and bounds[-1] > bounds[0] + 0.1, bounds


@pytest.mark.slow
@pytest.mark.parametrize("name", ["dense_ladder_vae", "conv_ladder_vae"])
def test_ancestral_samples_decode_to_images(name):
    model, input_shape = _model(name)

    @nnx.jit
    def sample(model, key):
        codes = model.sample_prior(nnx.Rngs(key), 6)
        return codes, model.decode(codes)

    codes, images = sample(model, jax.random.key(4))
    assert codes.shape == (6, model.latent_dim)
    assert images.shape == (6, *input_shape)
    other, _ = sample(model, jax.random.key(5))
    assert not np.allclose(codes, other)


@pytest.mark.slow
def test_decoding_the_posterior_code_gives_the_reconstruction():
    model, input_shape = _model("conv_ladder_vae", posterior="precision_weighted")
    x = _binary_batch(input_shape)
    output = model(x, rngs=nnx.Rngs(1))
    np.testing.assert_allclose(model.decode(output.code), output.decoded, atol=1e-5)
    # Without rngs, the mean path: what `encode` describes and what is decoded.
    deterministic = model(x)
    np.testing.assert_allclose(deterministic.code, model.encode(x).mean, atol=1e-6)


# README-tier budget: the ladder's whole-model tests run in the slow tier (CI runs it).
@pytest.mark.slow
def test_upper_latents_set_the_priors_below_them_and_the_bottom_sets_none():
    """Layer sizes (4, 3, 2) from the bottom: code slices [0:4] z_1, [4:7] z_2, [7:9] z_3."""
    model, _ = _model()
    code = model.sample_prior(nnx.Rngs(0), BATCH)
    mean, log_var = model.prior_parameters(code)
    np.testing.assert_array_equal(mean[:, 7:], 0.0)  # the top prior is N(0, I)
    np.testing.assert_array_equal(log_var[:, 7:], 0.0)

    new_top = code.at[:, 7:].add(1.0)
    top_mean, _ = model.prior_parameters(new_top)
    assert not np.allclose(top_mean[:, :4], mean[:, :4])  # p(z_1 | z_2, z_3) moved
    assert not np.allclose(top_mean[:, 4:7], mean[:, 4:7])  # p(z_2 | z_3) moved

    new_middle = code.at[:, 4:7].add(1.0)
    middle_mean, _ = model.prior_parameters(new_middle)
    assert not np.allclose(middle_mean[:, :4], mean[:, :4])
    np.testing.assert_array_equal(middle_mean[:, 4:], mean[:, 4:])  # z_2 and z_3 unmoved

    new_bottom = code.at[:, :4].add(1.0)
    bottom_mean, bottom_log_var = model.prior_parameters(new_bottom)
    np.testing.assert_array_equal(bottom_mean, mean)
    np.testing.assert_array_equal(bottom_log_var, log_var)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["dense_ladder_vae", "conv_ladder_vae"])
def test_one_step_with_warm_up_and_free_bits_lowers_the_loss(name):
    """A few Adam steps on one batch with the KL warm-up and free bits per layer."""
    model, input_shape = _model(name, scale=0.0)
    x = _binary_batch(input_shape)
    objective = _objective(kl_warmup_steps=3, free_bits=0.5)
    optimizer = nnx.Optimizer(model, optax.adam(1e-2), wrt=nnx.Param)

    @nnx.jit
    def step(model, optimizer, key, step):
        def loss_fn(model):
            return objective(model, {"inputs": x}, rngs=nnx.Rngs(key), train=True, step=step)

        (loss, metrics), grads = nnx.value_and_grad(loss_fn, has_aux=True)(model)
        optimizer.update(model, grads)
        return loss, metrics

    losses = [
        float(step(model, optimizer, jax.random.key(0), jnp.asarray(i))[0]) for i in range(20)
    ]
    assert np.all(np.isfinite(losses))
    assert np.mean(losses[-3:]) < np.mean(losses[3:6]), losses


def test_latent_dims_must_give_one_size_per_layer():
    config, input_shape, _ = models.tiny_setup("dense_ladder_vae")
    config.num_latent_layers = 4
    with pytest.raises(ConfigError, match="latent_dims"):
        models.build_model(config, input_shape, rngs=nnx.Rngs(0))
