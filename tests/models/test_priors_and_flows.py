"""The VAE priors (mixture of Gaussians, VampPrior) and the IAF posterior against their
definitions: log densities against a brute-force mixture computed with SciPy, prior
samples' statistics, the flow's log-determinant against the Jacobian, its autoregressive
order, the Monte-Carlo KL, and one gradient step of every new option on the dense and
conv VAEs."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from flax import nnx
from scipy import special, stats

from aelab.config import ConfigError, base_config, validate_config
from aelab.models import build_model
from aelab.models.iaf import IAFStep, InverseAutoregressiveFlow
from aelab.models.priors import MixtureOfGaussiansPrior
from aelab.objectives import build_objective
from aelab.objectives.bounds import iwae_bound

_INPUT = (6,)


def _vae(input_shape=_INPUT, name="dense_vae", **fields):
    config = ml_collections.ConfigDict(
        {"name": name, "hidden_dims": (8,), "latent_dim": 3, "prior_components": 4}
    )
    config.update(fields)
    return build_model(config, input_shape, rngs=nnx.Rngs(0))


def _brute_force_mixture(z, log_weights, means, log_vars):
    """log sum_k w_k prod_j N(z_j; mu_kj, sd_kj), with SciPy, one z at a time."""
    z, means, sds = np.asarray(z, np.float64), np.asarray(means), np.exp(0.5 * np.asarray(log_vars))
    out = []
    for point in z.reshape(-1, z.shape[-1]):
        per_component = [
            lw + stats.norm.logpdf(point, m, s).sum()
            for lw, m, s in zip(np.asarray(log_weights), means, sds, strict=True)
        ]
        out.append(special.logsumexp(per_component))
    return np.array(out).reshape(z.shape[:-1])


def test_mixture_prior_log_density_matches_a_brute_force_logsumexp():
    prior = MixtureOfGaussiansPrior(3, 4, learned_weights=True, rngs=nnx.Rngs(0))
    keys = jax.random.split(jax.random.PRNGKey(1), 3)
    prior.log_vars[...] = 0.5 * jax.random.normal(keys[0], (4, 3))
    prior.logits[...] = jax.random.normal(keys[1], (4,))
    z = 2.0 * jax.random.normal(keys[2], (2, 5, 3))
    log_weights = jax.nn.log_softmax(prior.logits[...])
    expected = _brute_force_mixture(z, log_weights, prior.means[...], prior.log_vars[...])
    np.testing.assert_allclose(prior.log_prob(z), expected, rtol=1e-5, atol=1e-5)


def test_vampprior_is_the_mixture_of_the_pseudo_inputs_posteriors():
    model = _vae(prior="vamp", pseudo_input_std=0.5)
    params = np.asarray(model.encoder(model.prior.pseudo_inputs[...], train=False, rngs=None))
    means, log_vars = params[:, :3], params[:, 3:]
    assert model.prior.pseudo_inputs.shape == (4, *_INPUT)
    z = jax.random.normal(jax.random.PRNGKey(2), (7, 3))
    expected = _brute_force_mixture(z, np.full(4, -np.log(4)), means, log_vars)
    np.testing.assert_allclose(model.prior_log_prob(z), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.slow
def test_mixture_prior_samples_follow_its_weights_and_components():
    prior = MixtureOfGaussiansPrior(2, 2, learned_weights=True, rngs=nnx.Rngs(0))
    prior.means[...] = jnp.array([[-10.0, 0.0], [10.0, 5.0]])
    prior.log_vars[...] = jnp.log(jnp.array([[1.0, 1.0], [4.0, 0.25]]))
    prior.logits[...] = jnp.log(jnp.array([0.2, 0.8]))
    z = np.asarray(prior.sample(nnx.Rngs(sample=3), 20_000))
    second = z[:, 0] > 0
    assert abs(second.mean() - 0.8) < 0.015
    np.testing.assert_allclose(z[second].mean(0), [10.0, 5.0], atol=0.05)
    np.testing.assert_allclose(z[second].std(0), [2.0, 0.5], rtol=0.03)
    np.testing.assert_allclose(z[~second].std(0), [1.0, 1.0], rtol=0.05)


@pytest.mark.slow
def test_vampprior_samples_come_from_the_pseudo_inputs_posteriors():
    model = _vae(prior="vamp", prior_components=1, pseudo_input_std=0.5)
    params = np.asarray(model.encoder(model.prior.pseudo_inputs[...], train=False, rngs=None))
    z = np.asarray(model.sample_prior(nnx.Rngs(sample=4), 20_000))
    np.testing.assert_allclose(z.mean(0), params[0, :3], atol=0.05)
    np.testing.assert_allclose(z.std(0), np.exp(0.5 * params[0, 3:]), rtol=0.03)


def _flow_and_context(steps, dim=3, seed=0):
    flow = InverseAutoregressiveFlow(dim, steps, (8, 8), 5, rngs=nnx.Rngs(seed))
    # Larger weights than at initialisation, so the off-diagonal terms are far from 0.
    params = nnx.state(flow, nnx.Param)
    scaled = jax.tree_util.tree_map_with_path(
        lambda path, a: 3.0 * a if "kernel" in jax.tree_util.keystr(path) else a, params
    )
    nnx.update(flow, scaled)
    return flow, jax.random.normal(jax.random.PRNGKey(seed + 1), (5,))


@pytest.mark.parametrize("steps", [1, 2, 3])
def test_iaf_log_determinant_matches_the_jacobian(steps):
    flow, h = _flow_and_context(steps)
    z0 = jax.random.normal(jax.random.PRNGKey(7), (3,))
    jacobian = jax.jacfwd(lambda z: flow(z, h)[0])(z0)
    sign, log_abs_det = np.linalg.slogdet(np.asarray(jacobian, np.float64))
    assert sign > 0
    np.testing.assert_allclose(flow(z0, h)[1], log_abs_det, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("reverse", [False, True])
def test_an_iaf_step_is_autoregressive_in_its_order(reverse):
    step = IAFStep(4, (12,), 2, reverse=reverse, rngs=nnx.Rngs(0))
    h = jnp.ones((2,))
    z0 = jax.random.normal(jax.random.PRNGKey(1), (4,))
    jacobian = np.asarray(jax.jacfwd(lambda z: step(z, h)[0])(z0))
    # J[i, j] = d z_new_i / d z_j: nonzero only for j at or before i in the step's order.
    allowed = np.triu(np.ones((4, 4))) if reverse else np.tril(np.ones((4, 4)))
    assert np.all(jacobian[allowed == 0] == 0)
    assert np.all(np.abs(jacobian[(allowed == 1) & ~np.eye(4, dtype=bool)]) > 0)
    np.testing.assert_allclose(np.diag(jacobian), np.exp(step(z0, h)[1]), rtol=1e-6)


@pytest.mark.slow
def test_iaf_posterior_density_is_the_change_of_variables():
    """log q(z|x) from the model = log N(z0; mean, var) - log |det dz/dz0| by jacfwd."""
    model = _vae(posterior="iaf", flow_steps=2, flow_hidden=(8,))
    x = jax.random.uniform(jax.random.PRNGKey(0), (1, *_INPUT))
    output = model(x, rngs=nnx.Rngs(sample=5))
    encoding = output.encoding
    context = encoding.extras["context"]
    eps = jax.random.normal(nnx.Rngs(sample=5).sample(), encoding.mean.shape)
    z0 = encoding.mean + jnp.exp(0.5 * encoding.log_var) * eps
    np.testing.assert_allclose(model.flow(z0, context)[0], output.code, rtol=1e-6)
    jacobian = jax.jacfwd(lambda z: model.flow(z[None], context)[0][0])(z0[0])
    log_q0 = stats.norm.logpdf(z0[0], encoding.mean[0], np.exp(0.5 * encoding.log_var[0])).sum()
    expected = log_q0 - np.linalg.slogdet(np.asarray(jacobian, np.float64))[1]
    np.testing.assert_allclose(encoding.extras["log_q_z"][0], expected, rtol=1e-5, atol=1e-5)


@pytest.mark.slow
def test_a_one_component_standard_mixture_gives_the_analytic_kl_on_average():
    """The Monte-Carlo KL log q(z|x) - log p(z) averages to the analytic KL when p is N(0, I)."""
    model = _vae(prior="mog", prior_components=1)
    model.prior.means[...] = jnp.zeros((1, 3))
    standard = _vae()
    x = jax.random.uniform(jax.random.PRNGKey(0), (2, *_INPUT))
    analytic = standard.kl_terms(standard(x, rngs=nnx.Rngs(0))).sum(-1)
    estimates = jax.vmap(lambda key: model.kl_terms(model(x, rngs=nnx.Rngs(sample=key)))[:, 0])(
        jax.random.split(jax.random.PRNGKey(1), 20_000)
    )
    np.testing.assert_allclose(estimates.mean(0), analytic, rtol=0.02, atol=0.01)


@pytest.mark.slow
@pytest.mark.parametrize(
    "fields", [{"prior": "mog"}, {"prior": "vamp"}, {"posterior": "iaf"}], ids=str
)
def test_the_importance_sampled_bound_is_above_the_elbo(fields):
    model = _vae(**fields)
    likelihood = build_objective(ml_collections.ConfigDict({"name": "elbo"})).likelihood
    x = jax.random.bernoulli(jax.random.PRNGKey(0), 0.5, (8, *_INPUT)).astype(jnp.float32)
    bound = iwae_bound(
        model.log_importance_weights(x, likelihood, rngs=nnx.Rngs(1), num_samples=200)
    )
    elbo = model.log_importance_weights(x, likelihood, rngs=nnx.Rngs(2), num_samples=200).mean(0)
    assert float(bound.mean()) > float(elbo.mean())


_SLOW = pytest.mark.slow
# The README tier steps one model per new part (learned mixture weights, the VampPrior,
# the flow); the slow tier steps every combination listed, and the conv family.
_NEW_OPTIONS = [
    pytest.param({"prior": "mog"}, marks=_SLOW),
    {"prior": "mog", "prior_weights": "learned"},
    {"prior": "vamp"},
    pytest.param({"prior": "vamp", "prior_weights": "learned"}, marks=_SLOW),
    {"posterior": "iaf", "flow_steps": 2, "flow_hidden": (8,)},
    pytest.param({"posterior": "iaf", "prior": "mog", "flow_hidden": (8, 8)}, marks=_SLOW),
]
_FAMILIES = {"dense_vae": {"hidden_dims": (16,)}, "conv_vae": {"channels": (4, 8)}}


@pytest.mark.slow
@pytest.mark.parametrize("model_name", ["dense_vae", "conv_vae"])
@pytest.mark.parametrize("fields", _NEW_OPTIONS, ids=str)
def test_every_new_option_trains_one_step(model_name, fields):
    config = base_config(data="digits", model=model_name, objective="elbo")
    config.mesh.num_devices = 1
    config.model.update({"latent_dim": 4, "prior_components": 3, **_FAMILIES[model_name], **fields})
    validate_config(config)
    objective = build_objective(config.objective)
    shape = (8, 8, 1)
    model = build_model(
        config.model, shape, objective.decoder_output_shape(shape), rngs=nnx.Rngs(0)
    )
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    x = jax.random.uniform(jax.random.PRNGKey(0), (16, *shape))

    @jax.jit
    def train_step(params):
        def loss_fn(params):
            model = nnx.merge(graphdef, params, rest)
            return objective(model, {"inputs": x}, rngs=nnx.Rngs(1), train=True, step=0)

        (loss, metrics), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
        return loss, metrics, grads, jax.tree.map(lambda p, g: p - 1e-3 * g, params, grads)

    loss, metrics, grads, new_params = train_step(params)
    assert np.isfinite(float(loss)) and np.isfinite(float(metrics["kl"]))
    new_part = "prior" if fields.get("posterior") != "iaf" else "flow"
    part_grads = jax.tree.leaves(nnx.to_pure_dict(grads)[new_part])
    assert all(np.all(np.isfinite(g)) for g in part_grads)
    assert sum(float(jnp.abs(g).sum()) for g in part_grads) > 0
    assert float(train_step(new_params)[0]) != float(loss)


def test_vampprior_with_an_iaf_posterior_is_refused():
    config = base_config(data="digits", model="dense_vae", objective="elbo")
    config.model.update({"prior": "vamp", "posterior": "iaf"})
    with pytest.raises(ConfigError, match="posterior='gaussian'"):
        validate_config(config)


@pytest.mark.parametrize("objective_name", ["beta_tc_vae", "dip_vae"])
def test_objectives_that_need_the_standard_prior_refuse_the_others(objective_name):
    model = _vae(prior="mog")
    objective = build_objective(
        ml_collections.ConfigDict({"name": objective_name, "likelihood": "bernoulli"})
    )
    x = jnp.full((4, *_INPUT), 0.5)
    with pytest.raises(ValueError, match="prior='standard'"):
        objective(model, {"inputs": x}, rngs=nnx.Rngs(0), train=True, step=0)


def test_a_multi_sample_elbo_refuses_a_flow_posterior():
    model = _vae(posterior="iaf", flow_hidden=(8,))
    objective = build_objective(ml_collections.ConfigDict({"name": "elbo", "num_samples": 3}))
    with pytest.raises(ValueError, match="objective 'iwae'"):
        objective(model, {"inputs": jnp.full((4, *_INPUT), 0.5)}, rngs=nnx.Rngs(0), train=True)
