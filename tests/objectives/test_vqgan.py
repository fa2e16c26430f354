"""VQGAN-style adversarial training: the GAN losses against their formulas, the adaptive
weight against its definition, R1 and LeCam, and the discriminator's start step."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest
from flax import nnx

from aelab.objectives import build_objective, gan
from aelab.objectives.base import weighted_mean
from aelab.training.state import init_train_state, merge_model
from aelab.training.step import make_adversarial_train_step

MODEL = ml_collections.ConfigDict(
    {"name": "conv_vqvae", "channels": (8,), "latent_dim": 8, "code_dim": 2, "codebook_size": 8}
)


def _objective(**options):
    fields = {"name": "vqgan", "likelihood": "bernoulli", "discriminator_layers": 1}
    fields.update(discriminator_channels=8, **options)
    return build_objective(ml_collections.ConfigDict(fields))


def _batch():
    rng = np.random.default_rng(0)
    return {"inputs": jnp.asarray((rng.random((8, 8, 8, 1)) < 0.3).astype(np.float32))}


def test_hinge_and_non_saturating_losses_match_their_formulas():
    real = jnp.asarray(np.random.default_rng(0).normal(size=(3, 2, 2)), jnp.float32)
    fake = jnp.asarray(np.random.default_rng(1).normal(size=(3, 2, 2)), jnp.float32)
    r, f = np.asarray(real).reshape(3, -1), np.asarray(fake).reshape(3, -1)
    relu, softplus = lambda x: np.maximum(x, 0), lambda x: np.log1p(np.exp(x))
    expected = {
        "hinge": (
            0.5 * (relu(1 - r).mean(1) + relu(1 + f).mean(1)),
            -f.mean(1),
        ),
        "non_saturating": (
            0.5 * (softplus(-r).mean(1) + softplus(f).mean(1)),
            softplus(-f).mean(1),
        ),
    }
    for kind, (d_loss, g_loss) in expected.items():
        np.testing.assert_allclose(gan.discriminator_loss(real, fake, kind), d_loss, rtol=1e-6)
        np.testing.assert_allclose(gan.generator_loss(fake, kind), g_loss, rtol=1e-6)


def test_r1_penalty_is_the_squared_input_gradient_norm():
    w = jnp.arange(12.0).reshape(1, 2, 2, 3) / 10
    real = jnp.ones((4, 2, 2, 3))
    penalty = gan.r1_penalty(lambda x: jnp.sum(x * w, axis=-1), real)  # logits [4, 2, 2]
    # D(x) = mean over the 4 patches of <x, w>: its input gradient is w / 4.
    np.testing.assert_allclose(penalty, np.full(4, np.sum((np.asarray(w) / 4) ** 2)), 1e-6)


def test_lecam_penalty_matches_its_formula():
    real, fake = jnp.asarray([[1.0, 3.0]]), jnp.asarray([[-2.0, 0.0]])
    np.testing.assert_allclose(
        gan.lecam_penalty(real, fake, jnp.asarray(0.5), jnp.asarray(-1.0)),
        [((2**2 + 4**2) + (2.5**2 + 0.5**2)) / 2],
        rtol=1e-6,
    )


def _state(objective, key=0):
    optimizer = optax.adam(1e-3)
    state, (graphdef, d_graphdef) = init_train_state(
        MODEL,
        (8, 8, 1),
        (8, 8, 1),
        optimizer,
        jax.random.key(key),
        objective=objective,
        discriminator_optimizer=optax.adam(1e-3),
    )
    step = make_adversarial_train_step(graphdef, d_graphdef, objective, optimizer, optax.adam(1e-3))
    return state, graphdef, d_graphdef, jax.jit(step)


@pytest.mark.slow  # conv gradients of a VQ autoencoder (~10 s on the shared CPU)
def test_adaptive_weight_is_the_gradient_ratio_at_the_last_decoder_layer():
    objective = _objective()
    state, graphdef, d_graphdef, _ = _state(objective)
    batch = _batch()
    discriminator = merge_model(d_graphdef, state.discriminator_params, state.discriminator_state)
    # The key the objective draws (`rngs.default()`) for its forward pass.
    key = nnx.Rngs(jax.random.key(3)).default()

    def parts(params):
        model = merge_model(graphdef, params, state.model_state)
        output = model(batch["inputs"], train=True, rngs=nnx.Rngs(key))
        ones = jnp.ones(8)
        nll = weighted_mean(-objective.likelihood.log_prob(output.decoded, batch["inputs"]), ones)
        reconstruction = objective.likelihood.mean(output.decoded)
        g = weighted_mean(gan.generator_loss(discriminator(reconstruction), "hinge"), ones)
        return nll, g

    rec_grad = jax.jit(jax.grad(lambda p: parts(p)[0]))(state.params)["decoder"]["out"]["kernel"]
    g_grad = jax.jit(jax.grad(lambda p: parts(p)[1]))(state.params)["decoder"]["out"]["kernel"]
    expected = np.linalg.norm(rec_grad) / (np.linalg.norm(g_grad) + 1e-4)
    model = merge_model(graphdef, state.params, state.model_state)
    terms, _, _ = objective.adversarial_terms(
        model, discriminator, batch, rngs=nnx.Rngs(jax.random.key(3)), train=True, step=0
    )
    np.testing.assert_allclose(terms["adaptive_weight"][0], expected, rtol=1e-4)
    fixed, _, _ = _objective(adaptive_weight=False).adversarial_terms(
        merge_model(graphdef, state.params, state.model_state),
        discriminator,
        batch,
        rngs=nnx.Rngs(key),
        train=True,
        step=jnp.asarray(0),
    )
    np.testing.assert_allclose(fixed["adversarial_factor"], 0.8)


@pytest.mark.slow  # compiles the two-optimizer step of a conv VQ autoencoder (~10 s)
def test_before_the_start_step_the_discriminator_stays_and_the_loss_has_no_gan_term():
    objective = _objective(discriminator_start=2, lecam_weight=0.1, r1_weight=1.0)
    state, _, _, step = _state(objective)
    batch = _batch()
    initial = jax.device_get(state)
    for expected_step in (1, 2):
        state, metrics = step(state, batch)
        assert int(state.step) == expected_step
        assert float(metrics["adversarial_factor"]) == 0.0
        np.testing.assert_allclose(
            metrics["loss"], metrics["reconstruction_nll"] + metrics["commitment_loss"], rtol=1e-5
        )
        for tree in ("discriminator_params", "discriminator_opt_state", "discriminator_state"):
            jax.tree.map(
                np.testing.assert_array_equal,
                jax.device_get(getattr(state, tree)),
                getattr(initial, tree),
            )
    state, metrics = step(state, batch)  # step 2: the discriminator starts
    assert float(metrics["adversarial_factor"]) > 0
    moved = jax.tree.map(
        lambda a, b: np.abs(np.asarray(a) - b).max(),
        jax.device_get(state.discriminator_params),
        initial.discriminator_params,
    )
    assert min(jax.tree.leaves(moved)) > 0
    # LeCam's EMAs are discriminator state (checkpointed with it), updated once started.
    assert float(state.discriminator_state["real_average"]) != 0.0
