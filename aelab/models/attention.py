"""ViT-style encoders and decoders for images [batch, height, width, channels].

The encoder cuts the image into non-overlapping patches, embeds them linearly, adds
learned position embeddings and runs a pre-LayerNorm transformer (Dosovitskiy et al.,
2021). The code is read either from learned latent tokens appended to the patch tokens
(`pooling="tokens"`, as in the latent tokens of TiTok-style tokenizers) or from the
mean of the patch tokens (`pooling="mean"`). The decoder maps the code to latent
tokens, appends one learned query token per output patch, runs a transformer over both
and projects each query token back to the pixels of its patch (as the MAE decoder does
with its mask tokens).

Options (`config.model`): `ViTOptions` below.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
from flax import nnx

from aelab.core.options import option, options_class
from aelab.models.layers import Decoder
from aelab.models.registry import ModelOptions

POOLING_MODES = ("tokens", "mean")


@options_class
class ViTOptions(ModelOptions):
    """`config.model` of the vit family."""

    patch_size: int = option(
        4, "side of a square patch; must divide the image height and width", minimum=1
    )
    embed_dim: int = option(64, "token width", minimum=1)
    num_heads: int = option(4, "attention heads (must divide embed_dim)", minimum=1)
    mlp_ratio: float = option(2.0, "MLP hidden width / embed_dim", above=0.0)
    num_layers: int = option(2, "encoder transformer blocks", minimum=0)
    decoder_layers: int | None = option(
        None, "decoder transformer blocks (None: num_layers)", minimum=0
    )
    pooling: str = option(
        "tokens",
        "where the code is read: learned latent 'tokens' or the 'mean' of the patch tokens",
        choices=POOLING_MODES,
    )
    num_latent_tokens: int = option(1, "latent tokens", minimum=1)
    dropout_rate: float = option(0.0, "dropout after attention and MLP", minimum=0.0, below=1.0)

    def check(self):
        if self.embed_dim % self.num_heads:
            yield "num_heads", f"must divide config.model.embed_dim={self.embed_dim}"


_POSITION_INIT_STD = 0.02


def patchify(x: jax.Array, patch_size: int) -> jax.Array:
    """[b, H, W, C] -> [b, (H/p) * (W/p), p * p * C], patches in row-major order."""
    b, h, w, c = x.shape
    p = patch_size
    x = x.reshape(b, h // p, p, w // p, p, c).transpose(0, 1, 3, 2, 4, 5)
    return x.reshape(b, (h // p) * (w // p), p * p * c)


def unpatchify(patches: jax.Array, height: int, width: int, patch_size: int) -> jax.Array:
    """[b, (H/p) * (W/p), p * p * C] -> [b, H, W, C]; the inverse of `patchify`."""
    b, _, dim = patches.shape
    p = patch_size
    c = dim // (p * p)
    x = patches.reshape(b, height // p, width // p, p, p, c).transpose(0, 1, 3, 2, 4, 5)
    return x.reshape(b, height, width, c)


def _check_patches(shape: Sequence[int], patch_size: int) -> int:
    """Number of patches of an image shape (H, W, C); clear errors for other shapes."""
    if len(shape) != 3:
        raise ValueError(
            f"ViT models take images [height, width, channels]; got examples of shape "
            f"{tuple(shape)}. Use a recurrent or dense model for other data, or set "
            "config.data.flatten=False."
        )
    height, width, _ = shape
    if height % patch_size or width % patch_size:
        raise ValueError(
            f"config.model.patch_size={patch_size} does not divide the image size "
            f"{height}x{width}; choose a divisor of both (e.g. 4 or 7 for 28x28)."
        )
    return (height // patch_size) * (width // patch_size)


def _learned_tokens(rngs: nnx.Rngs, count: int, dim: int) -> nnx.Param:
    return nnx.Param(_POSITION_INIT_STD * jax.random.normal(rngs.params(), (count, dim)))


class TransformerBlock(nnx.Module):
    """Pre-LayerNorm block: x + MHA(LN(x)), then x + MLP(LN(x)). [b, n, dim] -> same."""

    def __init__(
        self, dim: int, *, num_heads: int, mlp_ratio: float, dropout_rate: float, rngs: nnx.Rngs
    ):
        if dim % num_heads:
            raise ValueError(
                f"config.model.embed_dim={dim} must be divisible by config.model.num_heads="
                f"{num_heads}."
            )
        hidden = int(dim * mlp_ratio)
        self.norm1 = nnx.LayerNorm(dim, rngs=rngs)
        self.attention = nnx.MultiHeadAttention(
            num_heads, dim, decode=False, keep_rngs=False, rngs=rngs
        )
        self.norm2 = nnx.LayerNorm(dim, rngs=rngs)
        self.mlp_in = nnx.Linear(dim, hidden, rngs=rngs)
        self.mlp_out = nnx.Linear(hidden, dim, rngs=rngs)
        self.dropout = nnx.Dropout(dropout_rate) if dropout_rate > 0 else None

    def _drop(self, x: jax.Array, train: bool, rngs: nnx.Rngs | None) -> jax.Array:
        if self.dropout is None:
            return x
        return self.dropout(x, deterministic=not train, rngs=rngs)

    def __call__(self, x: jax.Array, *, train: bool, rngs: nnx.Rngs | None) -> jax.Array:
        x = x + self._drop(self.attention(self.norm1(x), deterministic=True), train, rngs)
        h = self.mlp_out(jax.nn.gelu(self.mlp_in(self.norm2(x))))
        return x + self._drop(h, train, rngs)


def _blocks(dim: int, depth: int, options: ViTOptions, rngs: nnx.Rngs) -> nnx.List:
    return nnx.List(
        [
            TransformerBlock(
                dim,
                num_heads=options.num_heads,
                mlp_ratio=options.mlp_ratio,
                dropout_rate=options.dropout_rate,
                rngs=rngs,
            )
            for _ in range(depth)
        ]
    )


class ViTEncoder(nnx.Module):
    """[batch, H, W, C] -> [batch, out_features] via patch tokens and a transformer."""

    def __init__(
        self, input_shape: Sequence[int], out_features: int, *, options: ViTOptions, rngs: nnx.Rngs
    ):
        self.patch_size = options.patch_size
        num_patches = _check_patches(input_shape, self.patch_size)
        dim = options.embed_dim
        self.pooling = options.pooling
        self.num_latent_tokens = options.num_latent_tokens
        channels = input_shape[-1]
        self.embed = nnx.Linear(self.patch_size**2 * channels, dim, rngs=rngs)
        self.position = _learned_tokens(rngs, num_patches, dim)
        if self.pooling == "tokens":
            self.latent_tokens = _learned_tokens(rngs, self.num_latent_tokens, dim)
            pooled = self.num_latent_tokens * dim
        else:
            pooled = dim
        self.blocks = _blocks(dim, options.num_layers, options, rngs)
        self.norm = nnx.LayerNorm(dim, rngs=rngs)
        self.out = nnx.Linear(pooled, out_features, rngs=rngs)

    def __call__(self, x: jax.Array, *, train: bool, rngs: nnx.Rngs | None) -> jax.Array:
        tokens = self.embed(patchify(x, self.patch_size)) + self.position[...]
        batch = tokens.shape[0]
        if self.pooling == "tokens":
            latent = jnp.broadcast_to(self.latent_tokens[...], (batch, *self.latent_tokens.shape))
            tokens = jnp.concatenate([tokens, latent], axis=1)
        for block in self.blocks:
            tokens = block(tokens, train=train, rngs=rngs)
        tokens = self.norm(tokens)
        if self.pooling == "tokens":
            pooled = tokens[:, -self.num_latent_tokens :].reshape(batch, -1)
        else:
            pooled = tokens.mean(axis=1)
        return self.out(pooled)


class ViTDecoder(Decoder):
    """[batch, latent_dim] -> [batch, H, W, out_channels]: latent tokens plus one learned
    query per output patch through a transformer; each query becomes its patch."""

    def __init__(
        self,
        latent_dim: int,
        output_shape: Sequence[int],
        *,
        options: ViTOptions,
        rngs: nnx.Rngs,
    ):
        self.patch_size = options.patch_size
        num_patches = _check_patches(output_shape, self.patch_size)
        height, width, out_channels = output_shape
        self.output_hw = (height, width)
        dim = options.embed_dim
        self.num_latent_tokens = options.num_latent_tokens
        self.dim = dim
        self.project = nnx.Linear(latent_dim, self.num_latent_tokens * dim, rngs=rngs)
        self.queries = _learned_tokens(rngs, num_patches, dim)
        depth = options.num_layers if options.decoder_layers is None else options.decoder_layers
        self.blocks = _blocks(dim, depth, options, rngs)
        self.norm = nnx.LayerNorm(dim, rngs=rngs)
        self.out = nnx.Linear(dim, self.patch_size**2 * out_channels, rngs=rngs)

    def __call__(self, z: jax.Array, *, train: bool, rngs: nnx.Rngs | None) -> jax.Array:
        batch = z.shape[0]
        latent = self.project(z).reshape(batch, self.num_latent_tokens, self.dim)
        queries = jnp.broadcast_to(self.queries[...], (batch, *self.queries.shape))
        tokens = jnp.concatenate([latent, queries], axis=1)
        for block in self.blocks:
            tokens = block(tokens, train=train, rngs=rngs)
        patches = self.out(self.norm(tokens[:, self.num_latent_tokens :]))
        return unpatchify(patches, *self.output_hw, self.patch_size)
