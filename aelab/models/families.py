"""Registers each encoder/decoder family as a plain autoencoder, a VAE and a VQ-VAE.

A family contributes `<family>_ae` and `<family>_vae` (the same encoder and decoder,
wrapped by `Autoencoder` or `GaussianVAE`; the VAE's options add its prior and
posterior, `aelab.models.variational`) and, for those listed with the "vqvae"
variant, `<family>_vqvae` (`VQAutoencoder`: the same pair around a quantiser,
`config.model.quantizer` from `aelab.models.quantizers`, whose options join the
family's). The families whose networks read a side input (`conditional`: dense and
conv) build `ConditionalAutoencoder` / `ConditionalGaussianVAE` instead when
`config.model.conditioning` is not "none" (`aelab.models.conditional`).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

from aelab.core.options import Options, options_class
from aelab.models import attention, conv, dense, recurrent, resnet
from aelab.models.autoencoder import Autoencoder, GaussianVAE
from aelab.models.conditional import (
    ConditionalAutoencoder,
    ConditionalGaussianVAE,
    require_unconditioned,
)
from aelab.models.quantizers import QuantizedOptions, build_quantizer
from aelab.models.registry import register_model
from aelab.models.variational import (
    VariationalOptions,
    build_posterior_flow,
    build_prior,
    context_features,
)
from aelab.models.vq import VQAutoencoder

VARIANTS = ("ae", "vae", "vqvae")


@dataclasses.dataclass(frozen=True)
class Family:
    """An encoder/decoder pair, its options and how to test it.

    Attributes:
      encoder: `encoder(input_shape, out_features, *, options, rngs)`.
      decoder: `decoder(latent_dim, output_shape, *, options, rngs)`; with
        `decoder_reads_inputs`, also given `input_shape=` (for decoders that condition
        on the data, e.g. teacher forcing).
      options: the family's options class (`config.model`).
      tiny_fields, tiny_input_shape: a tiny instance for the tests.
      variants: which of "ae", "vae", "vqvae" to register.
      tiny_vae_objective: `config.objective` fields the tests train the tiny VAE with.
      conditional: whether its options and networks take a side input
        (`aelab.models.conditional.ConditioningOptions`).
    """

    encoder: Callable
    decoder: Callable
    options: type[Options]
    tiny_fields: dict
    tiny_input_shape: tuple[int, ...] = (8, 8, 1)
    variants: tuple[str, ...] = ("ae", "vae")
    decoder_reads_inputs: bool = False
    tiny_vae_objective: dict = dataclasses.field(default_factory=lambda: {"name": "elbo"})
    conditional: bool = False


# Transformer and recurrent decoders are flexible enough to ignore a 4-d code: with
# beta = 1 their tiny VAEs' posteriors collapse on the 16-example overfit batch (the
# Bernoulli loss of grey levels barely rewards information), so the tests use beta 0.1.
_TINY_LOW_BETA = {"name": "elbo", "beta": 0.1}

_TINY_VQ = {"latent_dim": 8, "code_dim": 2, "codebook_size": 8}

FAMILIES = {
    "dense": Family(
        dense.DenseEncoder,
        dense.DenseDecoder,
        dense.DenseOptions,
        {"hidden_dims": (16,), "latent_dim": 4},
        variants=VARIANTS,
        conditional=True,
    ),
    "conv": Family(
        conv.ConvEncoder,
        conv.ConvDecoder,
        conv.ConvOptions,
        {"channels": (8, 16), "latent_dim": 4},
        variants=VARIANTS,
        conditional=True,
    ),
    "resnet": Family(
        resnet.ResNetEncoder,
        resnet.ResNetDecoder,
        resnet.ResNetOptions,
        # Batch norm and dropout, so the tests cover both under the sharded step.
        {"channels": (8, 16), "latent_dim": 4, "norm": "batch", "dropout_rate": 0.1},
        variants=VARIANTS,
    ),
    "vit": Family(
        attention.ViTEncoder,
        attention.ViTDecoder,
        attention.ViTOptions,
        {
            "patch_size": 4,
            "embed_dim": 16,
            "num_heads": 2,
            "num_layers": 1,
            "num_latent_tokens": 2,
            "latent_dim": 4,
        },
        variants=VARIANTS,
        tiny_vae_objective=_TINY_LOW_BETA,
    ),
    "lstm": Family(
        functools.partial(recurrent.RecurrentEncoder, cell="lstm"),
        functools.partial(recurrent.RecurrentDecoder, cell="lstm"),
        recurrent.RecurrentOptions,
        {"hidden_size": 16, "latent_dim": 4, "teacher_forcing": True},
        tiny_input_shape=(12, 1),
        decoder_reads_inputs=True,
        tiny_vae_objective=_TINY_LOW_BETA,
    ),
    "gru": Family(
        functools.partial(recurrent.RecurrentEncoder, cell="gru"),
        functools.partial(recurrent.RecurrentDecoder, cell="gru"),
        recurrent.RecurrentOptions,
        {"hidden_size": 16, "latent_dim": 4, "num_layers": 2},
        tiny_input_shape=(12, 1),
        decoder_reads_inputs=True,
        tiny_vae_objective=_TINY_LOW_BETA,
    ),
}


def with_quantizer(options: type[Options]) -> type[Options]:
    """A family's options class joined with `QuantizedOptions` (for `<family>_vqvae`)."""
    name = options.__name__.removesuffix("Options") + "QuantizerOptions"

    def check(self):
        yield from options.check(self)
        yield from QuantizedOptions.check(self)

    namespace = {"__doc__": f"{options.__doc__} With a quantiser.", "check": check}
    return options_class(type(name, (options, QuantizedOptions), namespace))


def with_variational(options: type[Options]) -> type[Options]:
    """A family's options class joined with `VariationalOptions` (for `<family>_vae`)."""
    name = options.__name__.removesuffix("Options") + "VariationalOptions"

    def check(self):
        yield from options.check(self)
        yield from VariationalOptions.check(self)

    namespace = {"__doc__": f"{options.__doc__} With a prior and a posterior.", "check": check}
    return options_class(type(name, (options, VariationalOptions), namespace))


def _register_family(name: str, family: Family) -> None:
    def make_pair(options, input_shape, output_shape, rngs, encoder_features):
        extra = {"input_shape": input_shape} if family.decoder_reads_inputs else {}
        encoder = family.encoder(input_shape, encoder_features, options=options, rngs=rngs)
        decoder = family.decoder(
            options.latent_dim, output_shape, options=options, rngs=rngs, **extra
        )
        return encoder, decoder

    def conditioned(options) -> bool:
        return family.conditional and options.conditioning != "none"

    def build_ae(options, input_shape, output_shape, rngs):
        pair = make_pair(options, input_shape, output_shape, rngs, options.latent_dim)
        if conditioned(options):
            return ConditionalAutoencoder(
                *pair, options.latent_dim, condition_dim=options.condition_dim
            )
        return Autoencoder(*pair, options.latent_dim)

    def build_vae(options, input_shape, output_shape, rngs):
        features = 2 * options.latent_dim + context_features(options)
        pair = make_pair(options, input_shape, output_shape, rngs, features)
        prior = build_prior(options, input_shape, rngs)
        flow = build_posterior_flow(options, rngs)
        if conditioned(options):
            if options.prior == "vamp":
                raise ValueError(
                    "config.model.prior='vamp' encodes pseudo-inputs, which have no "
                    "condition; a conditional VAE takes prior='standard' or 'mog'."
                )
            return ConditionalGaussianVAE(
                *pair,
                options.latent_dim,
                condition_dim=options.condition_dim,
                prior=prior,
                flow=flow,
            )
        return GaussianVAE(*pair, options.latent_dim, prior=prior, flow=flow)

    def build_vqvae(options, input_shape, output_shape, rngs):
        if family.conditional:
            require_unconditioned(options, f"{name}_vqvae")
        pair = make_pair(options, input_shape, output_shape, rngs, options.latent_dim)
        return VQAutoencoder(*pair, options.latent_dim, build_quantizer(options, rngs))

    tiny, shape, options = family.tiny_fields, family.tiny_input_shape, family.options
    if "ae" in family.variants:
        register_model(f"{name}_ae", options=options, tiny_fields=tiny, tiny_input_shape=shape)(
            build_ae
        )
    if "vae" in family.variants:
        register_model(
            f"{name}_vae",
            options=with_variational(options),
            tiny_fields=tiny,
            tiny_input_shape=shape,
            objective=family.tiny_vae_objective,
        )(build_vae)
    if "vqvae" in family.variants:
        register_model(
            f"{name}_vqvae",
            options=with_quantizer(options),
            tiny_fields={**tiny, **_TINY_VQ},
            tiny_input_shape=shape,
        )(build_vqvae)


for _name, _family in FAMILIES.items():
    _register_family(_name, _family)
