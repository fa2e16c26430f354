"""Adversarial losses for image autoencoders: a PatchGAN discriminator (Isola et al.,
2017), the hinge and non-saturating GAN losses, the R1 gradient penalty (Mescheder et
al., 2018) and LeCam regularisation (Tseng et al., 2021). Pure functions of logits;
the objective that uses them is `aelab.objectives.vqgan`."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

GAN_LOSSES = ("hinge", "non_saturating")
DISCRIMINATOR_NORMS = ("none", "group", "layer")


class LogitAverage(nnx.Variable):
    """An exponential moving average of the discriminator's logits (LeCam's anchors);
    non-parameter state, so it is checkpointed with the discriminator."""


class PatchDiscriminator(nnx.Module):
    """PatchGAN: images [batch, height, width, channels] -> logits [batch, h', w'], one per
    overlapping patch (the receptive field of the stack), each saying "real".

    `layers` stride-2 4x4 convolutions (channels, 2 channels, ..., capped at 8
    channels), a stride-1 4x4 convolution, then a 4x4 convolution to one logit;
    leaky-ReLU (0.2) between them and `norm` after each but the first and last ("none",
    "group": 32 groups or fewer, "layer"). 'SAME' padding keeps h' = height / 2^layers.
    Carries `real_average` and `fake_average`, the EMAs of its mean logits on real and
    generated images (LeCam regularisation reads and updates them).
    """

    def __init__(self, in_channels: int, *, layers: int, channels: int, norm: str, rngs: nnx.Rngs):
        widths = [channels * min(2**i, 8) for i in range(layers + 1)]
        inputs = [in_channels, *widths[:-1]]
        strides = [2] * layers + [1]
        self.convs = nnx.List(
            [
                nnx.Conv(a, b, (4, 4), strides=s, padding="SAME", rngs=rngs)
                for a, b, s in zip(inputs, widths, strides, strict=True)
            ]
        )
        self.norms = nnx.List([_norm(norm, width, rngs) for width in widths[1:]])
        self.out = nnx.Conv(widths[-1], 1, (4, 4), padding="SAME", rngs=rngs)
        self.real_average = LogitAverage(jnp.zeros((), jnp.float32))
        self.fake_average = LogitAverage(jnp.zeros((), jnp.float32))

    def __call__(self, images: jax.Array) -> jax.Array:
        h = nnx.leaky_relu(self.convs[0](images), negative_slope=0.2)
        for conv, norm in zip(self.convs[1:], self.norms, strict=True):
            h = nnx.leaky_relu(norm(conv(h)), negative_slope=0.2)
        return self.out(h)[..., 0]


def _norm(name: str, features: int, rngs: nnx.Rngs):
    if name == "group":
        groups = max(g for g in range(1, min(32, features) + 1) if features % g == 0)
        return nnx.GroupNorm(features, num_groups=groups, rngs=rngs)
    if name == "layer":
        return nnx.LayerNorm(features, rngs=rngs)
    return lambda h: h


def _per_example(logits: jax.Array) -> jax.Array:
    return logits.reshape(logits.shape[0], -1).mean(axis=-1)


def generator_loss(fake_logits: jax.Array, kind: str) -> jax.Array:
    """The generator's adversarial loss per example [batch] from the discriminator's
    logits on its outputs [batch, ...] (averaged over patches).

    hinge: -D(x_hat) (Lim & Ye 2017; VQGAN); non_saturating: softplus(-D(x_hat)) =
    -log sigmoid(D(x_hat)) (Goodfellow et al. 2014).
    """
    if kind == "hinge":
        return _per_example(-fake_logits)
    return _per_example(jax.nn.softplus(-fake_logits))


def discriminator_loss(real_logits: jax.Array, fake_logits: jax.Array, kind: str) -> jax.Array:
    """The discriminator's loss per example [batch]: half the sum of its real and fake
    terms (averaged over patches), as VQGAN weighs them.

    hinge: 0.5 (relu(1 - D(x)) + relu(1 + D(x_hat))); non_saturating (cross-entropy):
    0.5 (softplus(-D(x)) + softplus(D(x_hat))).
    """
    if kind == "hinge":
        real, fake = jax.nn.relu(1.0 - real_logits), jax.nn.relu(1.0 + fake_logits)
    else:
        real, fake = jax.nn.softplus(-real_logits), jax.nn.softplus(fake_logits)
    return 0.5 * (_per_example(real) + _per_example(fake))


def r1_penalty(logits_fn, real: jax.Array) -> jax.Array:
    """||grad_x D(x)||^2 per real example [batch] (the R1 penalty is gamma / 2 times its
    mean); `logits_fn` maps images [batch, ...] to logits [batch, ...]."""
    grads = jax.grad(lambda x: jnp.sum(_per_example(logits_fn(x))))(real)
    return jnp.sum(grads.reshape(grads.shape[0], -1) ** 2, axis=-1)


def lecam_penalty(
    real_logits: jax.Array,
    fake_logits: jax.Array,
    real_average: jax.Array,
    fake_average: jax.Array,
) -> jax.Array:
    """LeCam regularisation per example [batch]: (D(x) - alpha_fake)^2 + (D(x_hat) -
    alpha_real)^2, averaged over patches, with alpha the EMAs of the logits on real and
    generated images (scalars)."""
    return _per_example((real_logits - fake_average) ** 2) + _per_example(
        (fake_logits - real_average) ** 2
    )
