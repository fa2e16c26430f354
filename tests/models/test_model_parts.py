"""The zoo's building blocks against their definitions: vector quantisation (straight-
through gradients, EMA codebook, dead-code restarts), teacher forcing, patches, norms."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from flax import nnx

import aelab.models as models
from aelab.models.attention import patchify, unpatchify
from aelab.models.layers import Norm
from aelab.models.vq import VectorQuantizer


def _config(**fields):
    return ml_collections.ConfigDict(fields)


def test_vq_straight_through_gradient_reaches_the_encoder():
    config = _config(
        name="dense_vqvae",
        hidden_dims=(8,),
        latent_dim=4,
        code_dim=2,
        codebook_size=4,
        ema_decay=0.0,
        commitment_cost=0.0,
    )
    model = models.build_model(config, (6,), rngs=nnx.Rngs(0))
    x = jax.random.uniform(jax.random.PRNGKey(1), (5, 6))
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)

    def reconstruction_loss(params):
        output = nnx.merge(graphdef, params, rest)(x)
        return jnp.sum((output.decoded - x) ** 2)

    grads = jax.grad(reconstruction_loss)(params)
    encoder_grads = jax.tree.leaves(grads["encoder"])
    assert all(np.any(np.asarray(g) != 0) for g in encoder_grads)
    # Straight through: d loss / d z_e equals d loss / d z_q.
    z_e = model.encoder(x, train=False, rngs=None).reshape(5, 2, 2)

    def loss_of_code(z):
        z_q = model.quantizer(z, train=False, rngs=None)[0]
        return jnp.sum(jnp.sin(z_q.reshape(5, 4)))

    z_q = model.quantizer(z_e, train=False, rngs=None)[0]
    np.testing.assert_allclose(jax.grad(loss_of_code)(z_e), jnp.cos(z_q), rtol=1e-6)
    # The codebook learns only from the codebook loss (no EMA): it gets no
    # reconstruction gradient.
    assert np.all(np.asarray(grads["quantizer"]["codebook"]) == 0)


def test_vq_codes_are_nearest_codebook_vectors_and_losses_are_reported():
    quantizer = VectorQuantizer(3, 2, commitment_cost=0.25, ema_decay=0.0, rngs=nnx.Rngs(0))
    quantizer.codebook[...] = jnp.array([[0.0, 0.0], [1.0, 1.0], [-1.0, 2.0]])
    z = jnp.array([[[0.1, -0.1], [0.9, 1.2]], [[-0.8, 1.7], [0.2, 0.2]]])
    z_q, indices, losses, metrics = quantizer(z, train=False, rngs=None)
    np.testing.assert_array_equal(indices, [[0, 1], [2, 0]])
    np.testing.assert_allclose(z_q, quantizer.codebook[...][indices], rtol=1e-6)
    distance = jnp.sum((z - z_q) ** 2, axis=(1, 2))
    np.testing.assert_allclose(losses["commitment_loss"], 0.25 * distance, rtol=1e-5)
    np.testing.assert_allclose(losses["codebook_loss"], distance, rtol=1e-5)
    np.testing.assert_allclose(metrics["codebook_usage"], [1.0, 1.0])
    usage = np.array([2, 1, 1]) / 4
    np.testing.assert_allclose(
        metrics["codebook_perplexity"], np.exp(-np.sum(usage * np.log(usage))), rtol=1e-5
    )


def test_vq_ema_moves_codes_to_their_cluster_means_and_restarts_dead_codes():
    quantizer = VectorQuantizer(
        3, 2, ema_decay=0.5, restart_threshold=0.3, commitment_cost=0.25, rngs=nnx.Rngs(0)
    )
    codebook = jnp.array([[0.0, 0.0], [4.0, 4.0], [100.0, 100.0]])
    quantizer.codebook[...] = codebook
    quantizer.embedding_sum[...] = codebook
    z = jnp.array([[[0.2, 0.0], [0.4, 0.0]], [[4.0, 5.0], [4.0, 5.0]]])
    quantizer(z, train=False, rngs=nnx.Rngs(0))
    np.testing.assert_array_equal(quantizer.codebook[...], codebook)  # eval: no update
    quantizer(z, train=True, rngs=nnx.Rngs(0))
    # Code 0: count 0.5 * 1 + 0.5 * 2 = 1.5, sum 0.5 * (0, 0) + 0.5 * (0.6, 0) = (0.3, 0);
    # code 1: count 1.5, sum 0.5 * (4, 4) + 0.5 * (8, 10) = (6, 7).
    counts = np.asarray(quantizer.cluster_size[...])
    np.testing.assert_allclose(counts[:2], [1.5, 1.5], rtol=1e-6)
    total = 1.5 + 1.5 + 1.0
    smoothed = (1.5 + 1e-5) / (total + 3e-5) * total
    np.testing.assert_allclose(quantizer.codebook[...][0], [0.3 / smoothed, 0.0], rtol=1e-4)
    np.testing.assert_allclose(
        quantizer.codebook[...][1], np.array([6.0, 7.0]) / smoothed, rtol=1e-4
    )
    # Code 2 was never used: count 0.5 -> 0.25 < 0.3 after one more step: restarted
    # at one of the batch's encoder outputs, with count 1.
    quantizer(z, train=True, rngs=nnx.Rngs(1))
    restarted = np.asarray(quantizer.codebook[...][2])
    assert any(np.allclose(restarted, v) for v in np.asarray(z).reshape(-1, 2))
    assert float(quantizer.cluster_size[...][2]) == 1.0


def test_vq_latent_dim_must_split_into_codes():
    config = _config(name="dense_vqvae", hidden_dims=(8,), latent_dim=5, code_dim=2)
    with pytest.raises(ValueError, match="multiple of"):
        models.build_model(config, (6,), rngs=nnx.Rngs(0))


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_teacher_forcing_feeds_the_true_series_only_in_training(cell):
    config = _config(name=f"{cell}_ae", hidden_size=8, latent_dim=3, teacher_forcing=True)
    model = models.build_model(config, (10, 1), (10, 2), rngs=nnx.Rngs(0))
    x = jax.random.normal(jax.random.PRNGKey(0), (4, 10, 1))
    z = model.encode(x).mean
    free = model.decode(z)
    forced = model.decoder(z, train=True, rngs=None, inputs=x)
    assert free.shape == forced.shape == (4, 10, 2)
    np.testing.assert_allclose(model(x, train=True).decoded, forced, rtol=1e-6)
    np.testing.assert_allclose(model(x, train=False).decoded, free, rtol=1e-6)
    # Step 0 sees no previous value either way; later steps differ.
    np.testing.assert_allclose(free[:, 0], forced[:, 0], rtol=1e-6)
    assert not np.allclose(free[:, 1:], forced[:, 1:])
    # A forced step t depends on x[t - 1] and not on x[t].
    changed = x.at[:, 5].add(1.0)
    forced_changed = model.decoder(z, train=True, rngs=None, inputs=changed)
    np.testing.assert_allclose(forced_changed[:, :6], forced[:, :6], rtol=1e-6)
    assert not np.allclose(forced_changed[:, 6], forced[:, 6])


def test_recurrent_models_refuse_images():
    config = _config(name="lstm_ae", hidden_size=8, latent_dim=3)
    with pytest.raises(ValueError, match=r"series \[time, channels\]"):
        models.build_model(config, (8, 8, 1), rngs=nnx.Rngs(0))


def test_patches_round_trip_and_bad_patch_sizes_are_named():
    x = jnp.arange(2 * 4 * 6 * 3, dtype=jnp.float32).reshape(2, 4, 6, 3)
    patches = patchify(x, 2)
    assert patches.shape == (2, 6, 12)
    np.testing.assert_array_equal(patches[0, 1], x[0, 0:2, 2:4].reshape(-1))
    np.testing.assert_array_equal(unpatchify(patches, 4, 6, 2), x)
    config = _config(name="vit_ae", patch_size=3, latent_dim=4)
    with pytest.raises(ValueError, match="patch_size=3 does not divide"):
        models.build_model(config, (8, 8, 1), rngs=nnx.Rngs(0))


def test_norms_by_name():
    x = jax.random.normal(jax.random.PRNGKey(0), (4, 3, 3, 8)) * 5 + 2
    group = Norm("group", 8, num_groups=4, rngs=nnx.Rngs(0))(x, train=True)
    per_group = group.reshape(4, 3, 3, 4, 2)
    np.testing.assert_allclose(per_group.mean(axis=(1, 2, 4)), 0.0, atol=1e-5)
    batch_norm = Norm("batch", 8, rngs=nnx.Rngs(0))
    np.testing.assert_allclose(batch_norm(x, train=True).mean(axis=(0, 1, 2)), 0.0, atol=1e-5)
    np.testing.assert_array_equal(Norm("none", 8, rngs=nnx.Rngs(0))(x, train=True), x)
    with pytest.raises(ValueError, match="divisible by the number of groups"):
        Norm("group", 12, num_groups=8, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="norm='layer' is not valid"):
        Norm("layer", 8, rngs=nnx.Rngs(0))


def test_two_layer_vae_samples_its_prior_through_the_top_layer():
    config = _config(
        name="dense_2layer_vae",
        hidden_dims=(8,),
        latent_dim=3,
        top_hidden_dims=(4,),
        top_latent_dim=2,
    )
    model = models.build_model(config, (6,), rngs=nnx.Rngs(0))
    z1 = model.sample_prior(nnx.Rngs(1), 7)
    assert z1.shape == (7, 3)
    assert model.decode(z1).shape == (7, 6)
    assert model.top_latent_dim == 2
