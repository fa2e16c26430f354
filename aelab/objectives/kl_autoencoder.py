"""The KL autoencoder's objective: the first stage of latent diffusion (Rombach et al.,
2022; the `LPIPSWithDiscriminator` loss of CompVis/latent-diffusion): a reconstruction
loss, a small KL term toward N(0, I) that keeps the spatial code's scale in check, an
optional perceptual (LPIPS) term, and VQGAN's adaptively weighted PatchGAN loss.

Everything but the pixel loss and the KL term is `VqganObjective`'s (the discriminator,
its losses and start step, the adaptive weight, the perceptual term), so the two
objectives share one adversarial implementation.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from aelab.core.contract import require_latent_variable_model
from aelab.core.options import option, options_class
from aelab.objectives.base import Metrics
from aelab.objectives.likelihoods import sum_over_data_dims
from aelab.objectives.registry import register_objective
from aelab.objectives.vqgan import VqganObjective, VqganOptions

RECONSTRUCTIONS = ("l1", "likelihood")


@options_class
class KlAutoencoderOptions(VqganOptions):
    """`config.objective` of "kl_autoencoder" (VQGAN's options, and the KL weight and
    the pixel loss)."""

    kl_weight: float = option(
        1e-6, "weight of KL(q(z|x) || N(0, I)) (latent diffusion's kl_weight)", minimum=0.0
    )
    reconstruction: str = option(
        "l1",
        "the pixel loss: 'l1' (sum |x - mean|, latent diffusion's) or 'likelihood' "
        "(-log p(x | z) of config.objective.likelihood)",
        choices=RECONSTRUCTIONS,
    )


@register_objective("kl_autoencoder", options=KlAutoencoderOptions)
class KlAutoencoderObjective(VqganObjective):
    """loss = R(x, x_hat) + perceptual_weight * D * LPIPS(x_hat, x) + kl_weight * KL
    + w(step) * L_G, with R the L1 error summed over the D data dimensions (or
    -log p(x | z)), x_hat the likelihood's mean of a posterior sample's decoding, KL
    the analytic KL of the model's Gaussian posterior, and w(step) and L_G VQGAN's
    (`VqganObjective`): the adaptive weight balances L_G against R + the perceptual
    term, as in latent diffusion.

    Reported besides VQGAN's terms: "reconstruction_l1", "reconstruction_loss" (R plus
    the perceptual term) and "kl". Needs a latent-variable model (the "spatial_vae").
    """

    model_kind = "latent_variable"
    registered_name = "kl_autoencoder"

    def __init__(self, likelihood, *, kl_weight: float = 1e-6, reconstruction: str = "l1", **kw):
        super().__init__(likelihood, **kw)
        self.kl_weight = kl_weight
        self.reconstruction = reconstruction

    def pixel_terms(self, output, targets) -> tuple[jax.Array, Metrics]:
        nll, terms = super().pixel_terms(output, targets)
        error = jnp.abs(self.likelihood.mean(output.decoded) - targets)
        terms["reconstruction_l1"] = sum_over_data_dims(error, targets.ndim - 1)
        return (terms["reconstruction_l1"] if self.reconstruction == "l1" else nll), terms

    def regularizer_terms(self, model, output) -> tuple[jax.Array | None, Metrics]:
        require_latent_variable_model(model, "Objective 'kl_autoencoder'")
        extra, terms = super().regularizer_terms(model, output)
        kl = model.kl_terms(output).sum(axis=-1)
        terms["kl"] = kl
        weighted = self.kl_weight * kl
        return (weighted if extra is None else extra + weighted), terms
