"""Deep ensembles (`aelab.models.ensemble`): the contract the ensemble presents, each
member trained on its own loss, the anomaly evaluator's member_error, and refusals."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest
from flax import nnx

from aelab.evaluation.anomaly import AnomalyEvaluator
from aelab.evaluation.model_calls import ModelCalls
from aelab.models import build_model, tiny_setup
from aelab.models.ensemble import Ensemble, objective_over_members
from aelab.objectives import build_likelihood, build_objective
from aelab.training.state import init_train_state, merge_model, split_model
from tests.training.train_steps import jitted_train_step

SHAPE = (8, 8, 1)


def _ensemble(name="dense_ae", members=3, **fields):
    config, shape, _ = tiny_setup(name)
    config.update(fields)
    config.ensemble_members = members
    return build_model(config, shape, rngs=nnx.Rngs(0)), shape


def _inputs(shape=SHAPE, n=6):
    return jax.random.uniform(jax.random.PRNGKey(1), (n, *shape))


def test_the_ensemble_is_one_model_over_its_members():
    model, shape = _ensemble()
    assert isinstance(model, Ensemble) and model.num_members == 3
    x = _inputs(shape)
    members = [m(x) for m in model.members]
    output = model(x)
    assert model.latent_dim == 3 * model.member_latent_dim
    np.testing.assert_allclose(output.code, jnp.concatenate([o.code for o in members], -1))
    np.testing.assert_allclose(
        output.decoded, sum(o.decoded for o in members) / 3, rtol=1e-6, atol=1e-6
    )
    np.testing.assert_allclose(model.decode(output.code), output.decoded, rtol=1e-6, atol=1e-6)
    stacked = model.member_reconstructions(x)
    assert stacked.shape == (3, *output.decoded.shape)
    # Each member has its own initialisation.
    first, second = (nnx.state(m, nnx.Param) for m in model.members[:2])
    differs = jax.tree.map(lambda a, b: bool(jnp.any(a != b)), first, second)
    assert any(jax.tree.leaves(differs))


def test_one_member_is_the_model_alone():
    config, shape, _ = tiny_setup("dense_ae")
    assert not isinstance(build_model(config, shape, rngs=nnx.Rngs(0)), Ensemble)


def test_each_member_gets_the_gradient_it_would_get_alone():
    model, shape = _ensemble(members=2)
    objective = build_objective(ml_collections.ConfigDict({"name": "reconstruction"}))
    batch = {"inputs": _inputs(shape)}
    graphdef, params, state = split_model(model)

    def ensemble_loss(params):
        merged = merge_model(graphdef, params, state)
        loss, _ = objective_over_members(
            objective, merged, batch, rngs=nnx.Rngs(0), train=True, step=0
        )
        return loss

    grads = jax.grad(ensemble_loss)(params)
    for k, member in enumerate(model.members):
        m_graphdef, m_params, m_state = split_model(member)

        def member_loss(p, m_graphdef=m_graphdef, m_state=m_state):
            loss, _ = objective(
                merge_model(m_graphdef, p, m_state), batch, rngs=nnx.Rngs(0), train=True, step=0
            )
            return loss

        alone = jax.grad(member_loss)(m_params)
        jax.tree.map(
            lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7),
            grads["members"][k],
            alone,
        )


def test_an_ensemble_of_vaes_trains_every_member():
    model, shape = _ensemble("dense_vae", members=2)
    objective = build_objective(ml_collections.ConfigDict({"name": "elbo"}))
    step, state = jitted_train_step(model, objective)
    batch = {"inputs": (_inputs(shape, 16) > 0.5).astype(jnp.float32)}
    losses = []
    for _ in range(30):
        new_state, metrics = step(state, batch)
        for k in range(2):  # every member's parameters move
            moved = jax.tree.map(
                lambda a, b: bool(jnp.any(a != b)),
                new_state.params["members"][k],
                state.params["members"][k],
            )
            assert all(jax.tree.leaves(moved))
        state = new_state
        losses.append(float(metrics["loss"]))
    assert np.all(np.isfinite(losses))
    assert np.mean(losses[-5:]) < np.mean(losses[:5]), losses


def test_member_error_is_the_mean_member_error_and_bounds_the_mean_reconstructions():
    model, shape = _ensemble(members=3)
    graphdef, params, state = split_model(model)
    likelihood = build_likelihood("mse")
    calls = ModelCalls(graphdef, params, state, likelihood, batch_size=4)
    x = np.asarray(_inputs(shape, 10))
    reconstructions = calls.member_reconstructions(x)
    assert reconstructions.shape == (10, 3, *shape)
    errors = np.mean((reconstructions - x[:, None]) ** 2, axis=(2, 3, 4))
    for k, member in enumerate(model.members):
        own = np.mean((np.asarray(member(jnp.asarray(x)).decoded) - x) ** 2, axis=(1, 2, 3))
        np.testing.assert_allclose(errors[:, k], own, rtol=1e-5)
    of_mean = np.mean((calls.reconstruct(x) - x) ** 2, axis=(1, 2, 3))
    # The mean member error is the error of the mean plus the members' spread.
    assert np.all(errors.mean(axis=1) >= of_mean - 1e-6)
    assert calls.is_ensemble


def test_member_error_needs_an_ensemble():
    config, shape, _ = tiny_setup("dense_ae")
    graphdef, params, state = split_model(build_model(config, shape, rngs=nnx.Rngs(0)))
    calls = ModelCalls(graphdef, params, state, build_likelihood("mse"))
    with pytest.raises(ValueError, match="ensemble_members to 2 or more"):
        calls.member_reconstructions(np.zeros((2, *shape), np.float32))

    class Context:
        model_calls = calls

        def train_labels(self):
            return (0,)

    with pytest.raises(ValueError, match="member_error needs a deep ensemble"):
        AnomalyEvaluator(score="member_error")(Context())


def test_ensembles_refuse_members_they_cannot_average():
    with pytest.raises(ValueError, match="ensemble_members=2 needs plain autoencoder"):
        _ensemble("dense_vae", members=2, conditioning="concat", condition_dim=3)


def test_an_adversarial_objective_refuses_an_ensemble():
    # The refusal comes before the discriminator is built: a dense model is enough.
    config, shape, _ = tiny_setup("dense_ae")
    config.ensemble_members = 2
    objective = build_objective(ml_collections.ConfigDict({"name": "vqgan"}))
    with pytest.raises(ValueError, match=r"set config\.model\.ensemble_members=1"):
        init_train_state(
            config,
            shape,
            shape,
            optax.adam(1e-3),
            jax.random.PRNGKey(0),
            objective=objective,
            discriminator_optimizer=optax.adam(1e-3),
        )
