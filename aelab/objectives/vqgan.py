"""Adversarial training of an image autoencoder, as in VQGAN (Esser et al., 2021,
"Taming Transformers for High-Resolution Image Synthesis"): reconstruction, optionally
an LPIPS perceptual term (`aelab.objectives.perceptual`), plus an adaptively weighted
PatchGAN loss. `pixel_terms` and `regularizer_terms` are the hooks another image
objective changes (the KL autoencoder, `aelab.objectives.kl_autoencoder`)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import optax
from flax import nnx

from aelab.core.options import option, options_class
from aelab.objectives import gan, perceptual
from aelab.objectives.adversarial import AdversarialObjective
from aelab.objectives.base import (
    Metrics,
    ObjectiveOptions,
    example_weights,
    model_reported_terms,
    targets_of,
    weighted_mean,
)
from aelab.objectives.registry import register_objective

ADAPTIVE_WEIGHT_MAX = 1e4


@options_class
class VqganOptions(ObjectiveOptions):
    """`config.objective` of "vqgan"."""

    gan_loss: str = option(
        "hinge", "the GAN loss: 'hinge' (VQGAN) or 'non_saturating'", choices=gan.GAN_LOSSES
    )
    adversarial_weight: float = option(
        0.8, "weight of the generator's adversarial loss (VQGAN's disc_weight)", minimum=0.0
    )
    adaptive_weight: bool = option(
        True,
        "scale the adversarial loss by ||grad L_rec|| / (||grad L_G|| + 1e-4) at the "
        "decoder's last layer, clipped to [0, 1e4] (False: adversarial_weight alone)",
    )
    last_layer: str = option(
        "decoder.out.kernel",
        "the parameter the adaptive weight's gradients are taken at: a dotted path in the "
        "model ('decoder.out.kernel' for the conv and resnet decoders)",
    )
    discriminator_start: int = option(
        0,
        "the step from which the adversarial loss is on and the discriminator is updated",
        minimum=0,
    )
    discriminator_layers: int = option(
        3, "stride-2 convolutions of the PatchGAN discriminator (n_layers)", minimum=1
    )
    discriminator_channels: int = option(
        64, "channels of the discriminator's first convolution", minimum=1
    )
    discriminator_norm: str = option(
        "group",
        "normalisation in the discriminator: 'none', 'group' or 'layer' (no batch "
        "statistics, so a shard's patches do not depend on the others')",
        choices=gan.DISCRIMINATOR_NORMS,
    )
    r1_weight: float = option(
        0.0, "gamma of the R1 penalty gamma/2 E||grad_x D(x)||^2 on real images", minimum=0.0
    )
    lecam_weight: float = option(
        0.0, "weight of the LeCam regulariser (Tseng et al. 2021; 0: off)", minimum=0.0
    )
    lecam_decay: float = option(
        0.99, "decay of LeCam's EMAs of the real and fake logits", minimum=0.0, below=1.0
    )
    perceptual_weight: float = option(
        0.0,
        "weight of the LPIPS distance per data dimension (taming's and latent diffusion's "
        "perceptual_weight; 0: off); needs perceptual_weights",
        minimum=0.0,
    )
    perceptual_weights: str | None = option(
        None,
        "path of the LPIPS weights file (.safetensors or .npz; docs/perceptual.md tells "
        "how to make it)",
    )

    def check(self):
        if self.perceptual_weight > 0 and not self.perceptual_weights:
            yield (
                "perceptual_weights",
                "is needed when perceptual_weight > 0: give the path of the LPIPS weights "
                "file (tools/convert_lpips_weights.py writes it; see docs/perceptual.md)",
            )


def adaptive_weight(rec_grad, gan_grad) -> jax.Array:
    """VQGAN's lambda = ||grad L_rec|| / (||grad L_G|| + 1e-4), clipped to [0, 1e4], from
    the two losses' gradients at the decoder's last layer (any matching pytrees); a
    constant for the gradient (stop_gradient)."""
    ratio = optax.tree.norm(rec_grad) / (optax.tree.norm(gan_grad) + 1e-4)
    return jax.lax.stop_gradient(jnp.clip(ratio, 0.0, ADAPTIVE_WEIGHT_MAX))


def _key(tree: dict, name: str):
    # Pure-dict keys of an nnx.List's entries are ints ("decoder.ups.1.kernel").
    return int(name) if name not in tree and name.isdigit() else name


def _get(tree: dict, path: Sequence[str]):
    for name in path:
        tree = tree[_key(tree, name)]
    return tree


def _replaced(tree: dict, path: Sequence[str], value) -> dict:
    """A copy of nested dict `tree` with the leaf at `path` replaced by `value`."""
    key = _key(tree, path[0])
    return {**tree, key: value if len(path) == 1 else _replaced(tree[key], path[1:], value)}


@register_objective("vqgan", options=VqganOptions)
class VqganObjective(AdversarialObjective):
    """loss = -log p(x | x_hat) + perceptual_weight * D * LPIPS(x_hat, x) + the model's
    own losses (a VQ autoencoder's commitment) + w(step) * L_G, with D the data
    dimensions, L_G the generator's hinge or non-saturating loss from a
    PatchGAN discriminator on the reconstruction (the likelihood's mean) and
    w(step) = [step >= discriminator_start] * adversarial_weight * lambda, lambda the
    adaptive weight (1 with adaptive_weight=False) of the reconstruction loss (the
    likelihood and perceptual terms) against L_G.

    The discriminator sees the batch's images (real) against the reconstructions
    (gradient stopped); its loss is the hinge or cross-entropy loss, plus the R1
    penalty and the LeCam regulariser when weighted; it is not updated before
    `discriminator_start`. Reported: "loss", "reconstruction_nll", "reconstruction_loss"
    (with the perceptual term), "perceptual_loss" (when on), the model's own terms,
    "generator_adversarial_loss", "adaptive_weight" (lambda) and "adversarial_factor"
    (w(step)); the discriminator reports "discriminator_loss", "discriminator_real_logit",
    "discriminator_fake_logit", "discriminator_r1" and "discriminator_lecam". Called
    without a discriminator (the evaluators), "loss" is the reconstruction part.
    """

    registered_name = "vqgan"

    def __init__(
        self,
        likelihood,
        *,
        gan_loss: str = "hinge",
        adversarial_weight: float = 0.8,
        adaptive_weight: bool = True,
        last_layer: str = "decoder.out.kernel",
        discriminator_start: int = 0,
        discriminator_layers: int = 3,
        discriminator_channels: int = 64,
        discriminator_norm: str = "group",
        r1_weight: float = 0.0,
        lecam_weight: float = 0.0,
        lecam_decay: float = 0.99,
        perceptual_weight: float = 0.0,
        perceptual_weights: str | None = None,
        **kwargs,
    ):
        super().__init__(likelihood, **kwargs)
        self.gan_loss = gan_loss
        self.adversarial_weight = adversarial_weight
        self.adaptive = adaptive_weight
        self.last_layer = tuple(last_layer.split("."))
        self.discriminator_start = discriminator_start
        self.discriminator_layers = discriminator_layers
        self.discriminator_channels = discriminator_channels
        self.discriminator_norm = discriminator_norm
        self.r1_weight = r1_weight
        self.lecam_weight = lecam_weight
        self.lecam_decay = lecam_decay
        self.perceptual_weight = perceptual_weight
        # Loaded once, here: the feature network is a fixed metric, held as constants
        # of the traced step, outside the model's parameters (so no gradient, no
        # optimizer state and no copy in the checkpoints; the file is its source).
        self.perceptual = (
            perceptual.load_lpips(perceptual_weights)
            if perceptual_weight > 0 and perceptual_weights
            else None
        )

    def build_discriminator(
        self, model: nnx.Module, example_shape: Sequence[int], *, rngs: nnx.Rngs
    ) -> nnx.Module:
        if len(example_shape) != 3:
            raise ValueError(
                f"Objective {self.registered_name!r} needs image inputs [height, width, "
                f"channels]; got {tuple(example_shape)}: set config.data.flatten=False."
            )
        try:
            _get(nnx.to_pure_dict(nnx.state(model, nnx.Param)), self.last_layer)
        except (KeyError, TypeError, IndexError):
            raise ValueError(
                f"config.objective.last_layer={'.'.join(self.last_layer)!r} is not a "
                f"parameter of {type(model).__name__}: give the dotted path of its "
                "decoder's last kernel ('decoder.out.kernel' for conv and resnet decoders)."
            ) from None
        return gan.PatchDiscriminator(
            example_shape[-1],
            layers=self.discriminator_layers,
            channels=self.discriminator_channels,
            norm=self.discriminator_norm,
            rngs=rngs,
        )

    def discriminator_active(self, step: jax.Array) -> jax.Array:
        return jnp.asarray(step) >= self.discriminator_start

    def pixel_terms(self, output, targets) -> tuple[jax.Array, Metrics]:
        """(the per-example pixel reconstruction loss [batch], terms to report): here
        -log p(x | x_hat)."""
        nll = -self.likelihood.log_prob(output.decoded, targets)
        return nll, {"reconstruction_nll": nll}

    def regularizer_terms(self, model, output) -> tuple[jax.Array | None, Metrics]:
        """(per-example losses added to the reconstruction [batch] or None, terms to
        report): here the model's own (a VQ autoencoder's commitment)."""
        return model_reported_terms(output.encoding)

    def _reconstruction_terms(self, model, batch, *, rngs, train):
        """(output, terms, total loss [batch], reconstruction loss [batch]); the
        reconstruction loss (pixels plus the perceptual term) is what the adaptive
        weight balances the adversarial loss against."""
        output = model(batch["inputs"], train=train, rngs=rngs)
        targets = targets_of(batch)
        reconstruction, terms = self.pixel_terms(output, targets)
        if self.perceptual is not None:
            distance = self.perceptual(self.likelihood.mean(output.decoded), targets)
            terms["perceptual_loss"] = distance
            # Per data dimension, as taming's and latent diffusion's losses add the
            # LPIPS distance to every pixel's error before averaging: against a
            # likelihood summed over dimensions, that is a factor of D.
            data_dims = math.prod(targets.shape[1:])
            reconstruction = reconstruction + self.perceptual_weight * data_dims * distance
        terms["reconstruction_loss"] = reconstruction
        extra, reported = self.regularizer_terms(model, output)
        terms.update(reported)
        total = reconstruction if extra is None else reconstruction + extra
        return output, terms, total, reconstruction

    def per_example_terms(
        self, model: nnx.Module, batch: dict, *, rngs: nnx.Rngs | None, train: bool, step: jax.Array
    ) -> tuple[Metrics, jax.Array]:
        output, terms, total, _ = self._reconstruction_terms(model, batch, rngs=rngs, train=train)
        terms["loss"] = total
        return terms, output.decoded

    def adversarial_terms(self, model, discriminator, batch, *, rngs, train, step):
        weights = example_weights(batch)
        graphdef, params, rest = nnx.split(model, nnx.Param, ...)
        params, rest = nnx.to_pure_dict(params), nnx.to_pure_dict(rest)
        # One key drawn here: the forward below runs inside jax.vjp, where the outer
        # Rngs' counters cannot be advanced.
        key = rngs.default() if rngs is not None else None

        def forward(kernel):
            inner = nnx.merge(graphdef, _replaced(params, self.last_layer, kernel), rest)
            inner_rngs = nnx.Rngs(key) if key is not None else None
            output, terms, total, rec = self._reconstruction_terms(
                inner, batch, rngs=inner_rngs, train=train
            )
            reconstruction = self.likelihood.mean(output.decoded)
            adversarial = gan.generator_loss(discriminator(reconstruction), self.gan_loss)
            new_rest = nnx.to_pure_dict(nnx.state(inner, nnx.Not(nnx.Param)))
            losses = (
                weighted_mean(rec, weights),
                weighted_mean(adversarial, weights),
            )
            return losses, (output.decoded, reconstruction, terms, total, adversarial, new_rest)

        kernel = _get(params, self.last_layer)
        if self.adaptive:
            _, pullback, aux = jax.vjp(forward, kernel, has_aux=True)
            (rec_grad,) = pullback((jnp.ones(()), jnp.zeros(())))
            (gan_grad,) = pullback((jnp.zeros(()), jnp.ones(())))
            lam = adaptive_weight(rec_grad, gan_grad)
        else:
            _, aux = forward(kernel)
            lam = jnp.ones(())
        decoded, reconstruction, terms, total, adversarial, new_rest = aux
        # The forward ran on a copy: its variable updates (EMA codebooks) go to `model`.
        state = nnx.state(model, nnx.Not(nnx.Param))
        nnx.replace_by_pure_dict(state, new_rest)
        nnx.update(model, state)
        on = self.discriminator_active(step).astype(jnp.float32)
        factor = on * self.adversarial_weight * lam
        size = adversarial.shape[0]
        terms["generator_adversarial_loss"] = adversarial
        terms["adaptive_weight"] = jnp.full((size,), lam)
        terms["adversarial_factor"] = jnp.full((size,), factor)
        terms["loss"] = total + factor * adversarial
        return terms, decoded, reconstruction

    def discriminator_loss(self, discriminator, seen, batch, *, rngs, step):
        weights = example_weights(batch)
        real, fake = targets_of(batch), seen
        real_logits, fake_logits = discriminator(real), discriminator(fake)
        per_example = gan.discriminator_loss(real_logits, fake_logits, self.gan_loss)
        r1 = gan.r1_penalty(discriminator, real) if self.r1_weight else jnp.zeros_like(per_example)
        lecam = gan.lecam_penalty(
            real_logits,
            fake_logits,
            discriminator.real_average[...],
            discriminator.fake_average[...],
        )
        per_example = per_example + 0.5 * self.r1_weight * r1 + self.lecam_weight * lecam
        real_mean = weighted_mean(
            jax.lax.stop_gradient(real_logits.reshape(real.shape[0], -1).mean(-1)), weights
        )
        fake_mean = weighted_mean(
            jax.lax.stop_gradient(fake_logits.reshape(fake.shape[0], -1).mean(-1)), weights
        )
        decay = self.lecam_decay
        discriminator.real_average[...] = (
            decay * discriminator.real_average[...] + (1 - decay) * real_mean
        )
        discriminator.fake_average[...] = (
            decay * discriminator.fake_average[...] + (1 - decay) * fake_mean
        )
        loss = weighted_mean(per_example, weights)
        return loss, {
            "loss": loss,
            "real_logit": real_mean,
            "fake_logit": fake_mean,
            "r1": weighted_mean(r1, weights),
            "lecam": weighted_mean(lecam, weights),
        }
