"""The KL autoencoder's objective (latent diffusion's first stage) and the perceptual
term it shares with VQGAN: each term against its formula, the frozen LPIPS network
outside the trained parameters, and one two-optimizer step of the spatial VAE."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest
from flax import nnx

import aelab.models as models
from aelab.objectives import build_objective
from aelab.objectives.lpips_weights import random_lpips_weights, save_lpips_weights
from aelab.training.state import init_train_state
from aelab.training.step import make_adversarial_train_step

IMAGE = (16, 16, 1)  # the smallest size every VGG16 layer sees
MODEL = ml_collections.ConfigDict(
    {"name": "spatial_vae", "channels": (8, 16), "latent_channels": 2, "num_groups": 4}
)


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("lpips") / "lpips_small.npz"
    save_lpips_weights(path, random_lpips_weights("vgg16", 16, seed=0))
    return str(path)


def _objective(name="kl_autoencoder", **options):
    fields = {"name": name, "likelihood": "bernoulli", "discriminator_layers": 1}
    fields.update(discriminator_channels=8, **options)
    return build_objective(ml_collections.ConfigDict(fields))


def _model(name="spatial_vae"):
    config = MODEL if name == "spatial_vae" else ml_collections.ConfigDict({"name": name})
    if name == "conv_ae":
        config.update(channels=(8,), latent_dim=4)
    return models.build_model(config, IMAGE, rngs=nnx.Rngs(0))


def _batch():
    rng = np.random.default_rng(0)
    return {"inputs": jnp.asarray(rng.uniform(0, 1, (4, *IMAGE)), jnp.float32)}


@pytest.mark.slow  # a 28x28 conv VAE run eagerly (~8 s on the shared CPU)
def test_the_spatial_vae_has_a_spatial_code_f_times_smaller():
    config = ml_collections.ConfigDict({"name": "spatial_vae", "channels": (8, 8, 8)})
    model = models.build_model(config, (28, 28, 1), rngs=nnx.Rngs(0))
    output = model(jnp.zeros((2, 28, 28, 1)), rngs=nnx.Rngs(1))
    assert output.code.shape == (2, 7, 7, 4)  # f = 4, c = 4
    assert model.latent_dim == 7 * 7 * 4
    assert model.kl_terms(output).shape == (2, 7 * 7 * 4)
    # Flat codes (as the prior samples them) decode to the same images as spatial ones.
    flat = output.code.reshape(2, -1)
    np.testing.assert_allclose(model.decode(flat), model.decode(output.code), rtol=1e-6)


@pytest.mark.slow  # the conv VAE run eagerly (~12 s on the shared CPU)
def test_loss_is_l1_plus_weighted_kl_without_a_discriminator():
    objective = _objective(kl_weight=1e-3)
    model, batch = _model(), _batch()
    _, metrics = objective(model, batch, rngs=None, train=False)
    output = model(batch["inputs"])
    mean = objective.likelihood.mean(output.decoded)
    l1 = np.abs(np.asarray(mean) - np.asarray(batch["inputs"])).sum(axis=(1, 2, 3)).mean()
    kl = np.asarray(model.kl_terms(output)).sum(-1).mean()
    np.testing.assert_allclose(metrics["reconstruction_l1"], l1, rtol=1e-5)
    np.testing.assert_allclose(metrics["kl"], kl, rtol=1e-5)
    np.testing.assert_allclose(metrics["loss"], l1 + 1e-3 * kl, rtol=1e-5)


def test_the_likelihood_reconstruction_uses_the_nll():
    objective = _objective(reconstruction="likelihood", kl_weight=0.0)
    _, metrics = objective(_model(), _batch(), rngs=None, train=False)
    np.testing.assert_allclose(metrics["loss"], metrics["reconstruction_nll"], rtol=1e-6)
    assert float(metrics["reconstruction_l1"]) != pytest.approx(float(metrics["loss"]))


def test_a_deterministic_autoencoder_gets_a_clear_error():
    with pytest.raises(ValueError, match="needs a variational model"):
        _objective()(_model("conv_ae"), _batch(), rngs=None, train=False)


@pytest.mark.parametrize("name", ["kl_autoencoder", pytest.param("vqgan", marks=pytest.mark.slow)])
def test_the_perceptual_term_adds_weight_times_dims_times_lpips(weights_file, name):
    plain = _objective(name)
    perceptual = _objective(name, perceptual_weight=0.5, perceptual_weights=weights_file)
    model, batch = _model(), _batch()
    _, base = plain(model, batch, rngs=None, train=False)
    _, with_lpips = perceptual(model, batch, rngs=None, train=False)
    reconstruction = perceptual.likelihood.mean(model(batch["inputs"]).decoded)
    distance = np.asarray(perceptual.perceptual(reconstruction, batch["inputs"])).mean()
    assert distance > 0
    np.testing.assert_allclose(with_lpips["perceptual_loss"], distance, rtol=1e-5)
    np.testing.assert_allclose(
        with_lpips["loss"], base["loss"] + 0.5 * np.prod(IMAGE) * distance, rtol=1e-5
    )


def test_perceptual_weight_without_a_weights_file_is_a_config_error():
    with pytest.raises(ValueError, match=r"perceptual_weights.*tools/convert_lpips_weights"):
        _objective(perceptual_weight=1.0)


def test_a_missing_weights_file_fails_when_the_objective_is_built(tmp_path):
    with pytest.raises(ValueError, match=r"no such file.*convert_lpips_weights"):
        _objective(perceptual_weight=1.0, perceptual_weights=str(tmp_path / "none.npz"))


@pytest.mark.slow  # compiles the two-optimizer step of a conv VAE with LPIPS (~20 s)
def test_one_adversarial_step_trains_the_model_not_the_feature_network(weights_file):
    objective = _objective(
        perceptual_weight=1.0, perceptual_weights=weights_file, discriminator_start=0
    )
    optimizer = optax.adam(1e-3)
    state, (graphdef, d_graphdef) = init_train_state(
        MODEL,
        IMAGE,
        IMAGE,
        optimizer,
        jax.random.key(0),
        objective=objective,
        discriminator_optimizer=optax.adam(1e-3),
    )
    # The frozen LPIPS network is no part of what is optimised or checkpointed.
    names = {jax.tree_util.keystr(p) for p, _ in jax.tree_util.tree_leaves_with_path(state)}
    assert not any("conv1_1" in n or "lin0" in n for n in names)
    lpips_before = {k: v.copy() for k, v in objective.perceptual.params.items()}
    step = jax.jit(
        make_adversarial_train_step(graphdef, d_graphdef, objective, optimizer, optax.adam(1e-3))
    )
    new_state, metrics = step(state, _batch())
    for key in ("perceptual_loss", "kl", "reconstruction_l1", "discriminator_loss"):
        assert np.isfinite(float(metrics[key]))
    assert float(metrics["adversarial_factor"]) > 0
    moved = jax.tree.map(lambda a, b: float(jnp.abs(a - b).max()), new_state.params, state.params)
    assert max(jax.tree.leaves(moved)) > 0
    for key, value in objective.perceptual.params.items():
        np.testing.assert_array_equal(value, lpips_before[key])
