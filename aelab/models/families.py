"""Registers each encoder/decoder family as a plain autoencoder and as a VAE.

A family contributes `<family>_ae` and `<family>_vae`: the same encoder and decoder,
wrapped by `Autoencoder` or `GaussianVAE`.
"""

from __future__ import annotations

from aelab.models import conv, dense
from aelab.models.autoencoder import Autoencoder, GaussianVAE
from aelab.models.registry import register_model

FAMILIES = {
    "dense": (dense.DenseEncoder, dense.DenseDecoder, {"hidden_dims": (16,), "latent_dim": 4}),
    "conv": (conv.ConvEncoder, conv.ConvDecoder, {"channels": (8, 16), "latent_dim": 4}),
}


def _register_family(family: str, encoder_cls, decoder_cls, tiny_fields: dict) -> None:
    def build_ae(config, input_shape, output_shape, rngs):
        latent = config.latent_dim
        return Autoencoder(
            encoder_cls(input_shape, latent, config=config, rngs=rngs),
            decoder_cls(latent, output_shape, config=config, rngs=rngs),
            latent,
        )

    def build_vae(config, input_shape, output_shape, rngs):
        latent = config.latent_dim
        return GaussianVAE(
            encoder_cls(input_shape, 2 * latent, config=config, rngs=rngs),
            decoder_cls(latent, output_shape, config=config, rngs=rngs),
            latent,
        )

    register_model(f"{family}_ae", tiny_fields=tiny_fields)(build_ae)
    register_model(f"{family}_vae", tiny_fields=tiny_fields, objective="elbo")(build_vae)


for _name, (_encoder, _decoder, _tiny) in FAMILIES.items():
    _register_family(_name, _encoder, _decoder, _tiny)
