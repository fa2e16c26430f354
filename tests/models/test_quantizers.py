"""The quantisers against their definitions: FSQ's grid, LFQ's entropy penalty, residual
VQ's stages, cosine VQ's unit codes, straight-through gradients, and one training step
of each quantiser on the conv, residual and ViT families."""

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

import aelab.models as models
from aelab.core.errors import ConfigError
from aelab.core.registry import UnknownNameError
from aelab.models.fsq import FiniteScalarQuantizer
from aelab.models.lfq import LookupFreeQuantizer, all_binary_codes, entropy_penalty
from aelab.models.quantizers import QUANTIZERS, build_quantizer
from aelab.models.rvq import ResidualVectorQuantizer
from aelab.models.vq import VectorQuantizer
from aelab.objectives import build_objective


def _vectors(shape, seed=0, scale=2.0):
    return scale * jax.random.normal(jax.random.PRNGKey(seed), shape)


@pytest.mark.parametrize("levels", [(8, 5, 5, 5), pytest.param((4, 3, 7), marks=pytest.mark.slow)])
def test_fsq_outputs_lie_on_the_level_grid_and_indices_round_trip(levels):
    fsq = FiniteScalarQuantizer(levels)
    z_q, indices, losses, _ = jax.jit(lambda z: fsq(z, train=True, rngs=None))(
        _vectors((64, 50, len(levels)), scale=3.0)
    )
    assert losses == {}
    for i, level in enumerate(levels):
        grid = (np.arange(level) - level // 2) / (level // 2)
        values = np.asarray(z_q[..., i]).ravel()
        assert np.min(np.abs(values[:, None] - grid[None, :]), axis=1).max() < 1e-6
    every_index = jnp.arange(math.prod(levels))
    codes = fsq.indices_to_codes(every_index)
    np.testing.assert_array_equal(fsq.codes_to_indices(codes), every_index)
    # The implicit codebook has exactly prod(levels) distinct codes.
    assert len({tuple(c) for c in np.asarray(codes).tolist()}) == math.prod(levels)
    np.testing.assert_array_equal(indices, fsq.codes_to_indices(z_q))
    np.testing.assert_allclose(fsq.indices_to_codes(indices), z_q, atol=1e-6)


def test_fsq_even_levels_use_every_level_symmetrically():
    fsq = FiniteScalarQuantizer((4,))
    z = jnp.linspace(-10, 10, 2001)[:, None, None]
    values = np.unique(np.asarray(fsq.quantize(z)))
    np.testing.assert_allclose(values, [-1.0, -0.5, 0.0, 0.5])
    # The shift keeps z = 0 at code 0 despite the half-level offset.
    np.testing.assert_allclose(fsq.bound(jnp.zeros((1, 1, 1))), 0.0, atol=1e-6)


def test_normalised_fsq_uses_the_grid_whatever_the_encoder_output_scale():
    # An unnormalised encoder trained with Adam drifted to |z| ~ 3-18 on MNIST: there
    # the tanh saturates and every vector lands on one of the grid's 2^d corners.
    z = _vectors((64, 16, 2), scale=1.0)
    z = jnp.sign(z) * (0.2 + jnp.abs(z))  # no value near 0, as for the trained encoder
    plain = FiniteScalarQuantizer((5, 5))
    normalised = FiniteScalarQuantizer((5, 5), normalize=True)

    def used(quantizer, z):
        return np.unique(np.asarray(quantizer(z, train=False, rngs=None)[1])).size

    assert used(plain, 30.0 * z) <= 4  # the corners only: the collapse
    assert used(normalised, 30.0 * z) >= 20  # of 25 codes
    np.testing.assert_array_equal(
        normalised(z, train=False, rngs=None)[1], normalised(30.0 * z, train=False, rngs=None)[1]
    )


@pytest.mark.parametrize(
    "quantizer",
    [
        pytest.param(FiniteScalarQuantizer((5, 5)), marks=pytest.mark.slow),
        pytest.param(LookupFreeQuantizer(2, entropy_weight=0.0), marks=pytest.mark.slow),
        VectorQuantizer(4, 2, ema_decay=0.0, rngs=nnx.Rngs(0)),
        ResidualVectorQuantizer(
            [VectorQuantizer(4, 2, ema_decay=0.0, rngs=nnx.Rngs(s)) for s in range(2)], 2
        ),
    ],
    ids=["fsq", "lfq", "vq", "rvq"],
)
def test_quantizers_pass_gradients_straight_through(quantizer):
    z = _vectors((3, 4, 2), scale=0.3)

    def loss(z):
        return jnp.sum(jnp.sin(quantizer(z, train=False, rngs=None)[0]))

    z_q = quantizer(z, train=False, rngs=None)[0]
    if isinstance(quantizer, FiniteScalarQuantizer):
        # d round_st(bound(z)) / dz = bound'(z) / (L // 2): the tanh's derivative.
        scale = jax.vmap(jax.grad(lambda v: jnp.sum(quantizer.bound(v))))(z) / 2
    else:
        scale = 1.0
    np.testing.assert_allclose(jax.grad(loss)(z), jnp.cos(z_q) * scale, rtol=1e-5, atol=1e-7)


def _brute_force_entropies(z, temperature):
    """Per-example mean entropy and batch entropy from an explicit loop over codes."""
    codes = np.array(list(itertools.product([-1.0, 1.0], repeat=z.shape[-1])))
    flat = np.asarray(z, np.float64).reshape(-1, z.shape[-1])
    logits = -np.sum((flat[:, None, :] - codes[None]) ** 2, axis=-1) / temperature
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    per_vector = -np.sum(probs * np.log(np.maximum(probs, 1e-300)), axis=1)
    mean = probs.mean(axis=0)
    return per_vector.reshape(z.shape[:2]).mean(axis=1), -np.sum(mean * np.log(mean))


def test_lfq_entropy_penalty_matches_brute_force():
    z = _vectors((5, 3, 3), scale=0.5)
    per_sample, batch_entropy = entropy_penalty(z, temperature=0.7)
    expected_per_sample, expected_batch = _brute_force_entropies(z, 0.7)
    np.testing.assert_allclose(per_sample, expected_per_sample, rtol=1e-5)
    np.testing.assert_allclose(batch_entropy, expected_batch, rtol=1e-5)


def test_lfq_entropy_penalty_is_minimal_for_confident_uniform_usage():
    bits = 3
    uniform = 5.0 * all_binary_codes(bits)[None]  # every code once, confidently
    per_sample, batch_entropy = entropy_penalty(uniform, temperature=0.1)
    np.testing.assert_allclose(batch_entropy, bits * np.log(2), rtol=1e-5)
    np.testing.assert_allclose(per_sample, 0.0, atol=1e-5)
    collapsed = jnp.tile(uniform[:, :1], (1, 8, 1))  # one code only
    per_sample_c, batch_c = entropy_penalty(collapsed, temperature=0.1)
    assert float(per_sample.mean() - batch_entropy) < float(per_sample_c.mean() - batch_c) - 1


def test_lfq_entropy_loss_counts_once_per_code_vector_like_the_commitment_loss():
    lfq = LookupFreeQuantizer(3, entropy_weight=0.5, entropy_temperature=0.5)
    z = _vectors((4, 2, 3), scale=0.5)
    twice = jnp.concatenate([z, z], axis=1)  # the same vectors twice per example
    _, _, losses, _ = lfq(z, train=True, rngs=None)
    _, _, losses_twice, _ = lfq(twice, train=True, rngs=None)
    per_sample, batch_entropy = entropy_penalty(z, temperature=0.5)
    np.testing.assert_allclose(
        losses["entropy_loss"], 0.5 * 2 * (per_sample - batch_entropy), rtol=1e-5
    )
    for name in ("entropy_loss", "commitment_loss"):
        np.testing.assert_allclose(losses_twice[name], 2 * losses[name], rtol=1e-5)


@pytest.mark.slow
def test_lfq_codes_are_signs_and_indices_are_their_bits():
    lfq = LookupFreeQuantizer(4)
    z = _vectors((6, 5, 4))
    z_q, indices, losses, metrics = lfq(z, train=True, rngs=None)
    np.testing.assert_array_equal(z_q, jnp.where(z > 0, 1.0, -1.0))
    np.testing.assert_array_equal(lfq.indices_to_codes(indices), z_q)
    assert set(losses) == {"commitment_loss", "entropy_loss"}
    assert metrics["codebook_usage"].shape == (6,)


def test_residual_vq_error_decreases_with_stages():
    z = _vectors((64, 4, 2), scale=1.0)
    stages = [VectorQuantizer(16, 2, ema_decay=0.0, rngs=nnx.Rngs(s)) for s in range(4)]
    rvq = ResidualVectorQuantizer(stages, 4)
    errors = []
    for used in range(1, 5):
        z_q, indices, _, _ = rvq(z, train=False, rngs=None, num_stages=used)
        assert indices.shape == (64, 4, used)
        errors.append(float(jnp.mean((z_q - z) ** 2)))
    # Each stage picks the code nearest to the residual; the zero-free random codebook
    # may not contain a better vector for every residual, but on average it does.
    assert all(later < earlier for earlier, later in itertools.pairwise(errors)), errors


@pytest.mark.slow
def test_residual_vq_dropout_uses_a_random_number_of_stages_per_example():
    stages = [VectorQuantizer(8, 2, ema_decay=0.0, rngs=nnx.Rngs(s)) for s in range(3)]
    rvq = ResidualVectorQuantizer(stages, 3, quantizer_dropout=True)
    z = _vectors((32, 2, 2))
    _, _, losses, metrics = rvq(z, train=True, rngs=nnx.Rngs(quantizer_dropout=1))
    active = np.asarray(metrics["active_stages"])
    assert set(active.tolist()) == {1.0, 2.0, 3.0}
    _, _, all_losses, _ = rvq(z, train=False, rngs=None)
    one = active == 1
    assert np.all(losses["commitment_loss"][one] < all_losses["commitment_loss"][one])


def test_cosine_vq_outputs_are_unit_vectors():
    vq = VectorQuantizer(8, 3, ema_decay=0.0, cosine=True, rngs=nnx.Rngs(0))
    z_q, _, _, _ = vq(_vectors((4, 5, 3)), train=False, rngs=None)
    np.testing.assert_allclose(jnp.linalg.norm(z_q, axis=-1), 1.0, rtol=1e-5)


@pytest.mark.slow
def test_factorised_vq_looks_up_in_the_low_dimensional_space():
    vq = VectorQuantizer(8, 6, ema_decay=0.0, lookup_dim=2, rngs=nnx.Rngs(0))
    assert vq.codebook[...].shape == (8, 2)
    z = _vectors((4, 5, 6))
    z_q, indices, _, _ = vq(z, train=False, rngs=None)
    np.testing.assert_allclose(
        z_q, vq.project_out(jnp.take(vq.codebook[...], indices, axis=0)), rtol=1e-5, atol=1e-6
    )


def test_unknown_quantizer_lists_the_valid_ones():
    with pytest.raises(UnknownNameError, match=r"fsq.*lfq.*rvq.*vq"):
        QUANTIZERS.get("pq")
    config, shape, _ = models.tiny_setup("conv_vqvae")
    config.quantizer = "pq"
    with pytest.raises(ConfigError, match="quantizer"):
        models.build_model(config, shape, rngs=nnx.Rngs(0))


def test_fsq_levels_must_match_code_dim():
    config, shape, _ = models.tiny_setup("conv_vqvae")
    config.quantizer = "fsq"
    config.levels = (3, 3, 3)
    with pytest.raises(ConfigError, match="levels"):
        models.build_model(config, shape, rngs=nnx.Rngs(0))


def test_the_default_quantizer_is_the_vector_quantizer():
    config, _, _ = models.tiny_setup("conv_vqvae")
    options = models.model_options(config)
    assert options.quantizer == "vq"
    assert isinstance(build_quantizer(options, nnx.Rngs(0)), VectorQuantizer)


_QUANTIZER_FIELDS = {
    "vq": {"cosine": True},
    "fsq": {"levels": (3, 4)},
    "rvq": {"num_stages": 2, "quantizer_dropout": True},
    "lfq": {},
}


@pytest.mark.slow
@pytest.mark.parametrize("family", ["conv", "resnet", "vit"])
@pytest.mark.parametrize("quantizer", sorted(_QUANTIZER_FIELDS))
def test_each_quantizer_trains_one_step_on_each_family(family, quantizer):
    config, shape, _ = models.tiny_setup(f"{family}_vqvae")
    config.quantizer = quantizer
    for field, value in _QUANTIZER_FIELDS[quantizer].items():
        config[field] = value
    model = models.build_model(config, shape, rngs=nnx.Rngs(0))
    objective = build_objective(models.tiny_objective_config(f"{family}_vqvae"))
    optimizer = nnx.Optimizer(model, optax.adam(1e-2), wrt=nnx.Param)
    batch = {"inputs": jax.random.uniform(jax.random.PRNGKey(0), (4, *shape))}

    def loss_fn(model):
        return objective(model, batch, rngs=nnx.Rngs(1), train=True, step=0)

    (loss, metrics), grads = nnx.value_and_grad(loss_fn, has_aux=True)(model)
    optimizer.update(model, grads)
    (after, _), _ = nnx.value_and_grad(loss_fn, has_aux=True)(model)
    assert np.isfinite(float(loss)) and np.isfinite(float(after))
    assert any("codebook_usage" in name for name in metrics)
    encoder_grads = jax.tree.leaves(nnx.state(grads)["encoder"])
    assert any(np.any(np.asarray(g) != 0) for g in encoder_grads)
