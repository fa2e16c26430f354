"""Vector quantisation: a VQ-VAE bottleneck for any encoder/decoder pair.

VQ-VAE (van den Oord et al., 2017): the encoder output z_e [batch, latent_dim] is read
as `latent_dim // code_dim` vectors of `code_dim` values; each is replaced by its
nearest codebook vector e_k. Gradients pass straight through the quantiser to the
encoder (z_q = z_e + stop_gradient(e_k - z_e)); a commitment loss
beta * ||z_e - sg(e_k)||^2 keeps the encoder close to its codes. The codebook learns
either by gradient (codebook loss ||sg(z_e) - e_k||^2, `ema_decay=0`) or by
exponential moving averages of the assigned encoder outputs (the paper's appendix,
`ema_decay>0`): then the codebook and its statistics are non-parameter NNX variables,
updated in the training forward pass and written back by the train step. Codes whose
average usage falls below `restart_threshold` are restarted at random encoder outputs
of the batch (as in Dhariwal et al., 2020, Jukebox), so no code stays dead.

The quantiser reports per-example auxiliary losses (`Encoding.losses`, which every
objective adds to its loss) and codebook-usage metrics (`Encoding.metrics`):
"codebook_perplexity" (exp of the entropy of code usage in the batch; K for uniform
use) and "codebook_usage" (fraction of codes used in the batch).

Two improvements from ViT-VQGAN (Yu et al., 2021) are options: `cosine` l2-normalises
the encoder vectors and the codebook before the lookup (nearest by cosine similarity,
codes on the unit sphere), and `lookup_dim` projects each vector to a low dimension for
the lookup and back afterwards (a factorised codebook).

`VQAutoencoder` wraps any quantiser with this module's interface (see
`aelab.models.quantizers` for the others: FSQ, residual VQ, LFQ).

Options (`config.model`, besides the encoder/decoder family's): `CodeOptions` (shared by
every quantiser) and `QuantizerOptions`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from aelab.core.contract import Encoding
from aelab.core.options import option, options_class
from aelab.models.autoencoder import Autoencoder
from aelab.models.registry import ModelOptions

_EMA_EPSILON = 1e-5


@options_class
class CodeOptions(ModelOptions):
    """`config.model` options every quantiser of the *_vqvae models reads."""

    code_dim: int = option(8, "D: values per code vector (must divide latent_dim)", minimum=1)
    commitment_cost: float = option(
        0.25, "beta: weight of the commitment loss (vq, rvq, lfq)", minimum=0.0
    )

    def check(self):
        if self.latent_dim % self.code_dim:
            yield (
                "latent_dim",
                (
                    f"must be a multiple of config.model.code_dim={self.code_dim} (the code is "
                    "latent_dim // code_dim code vectors)"
                ),
            )


@options_class
class QuantizerOptions(CodeOptions):
    """`config.model` options of the vector quantiser (quantizer "vq" and "rvq")."""

    codebook_size: int = option(64, "K: codebook vectors (per stage for rvq)", minimum=1)
    ema_decay: float = option(
        0.99,
        "gamma of the EMA codebook updates (0: the codebook learns by gradient)",
        minimum=0.0,
        below=1.0,
    )
    restart_threshold: float = option(
        0.01,
        "EMA usage count below which a code restarts at an encoder output (0: never; EMA only)",
        minimum=0.0,
    )
    cosine: bool = option(
        False, "l2-normalise encoder vectors and codes: a cosine-similarity lookup (ViT-VQGAN)"
    )
    lookup_dim: int | None = option(
        None,
        "project each vector to this size for the lookup and back (None: no projection)",
        minimum=1,
    )


class CodebookStatistic(nnx.Variable):
    """A codebook array updated by moving averages, not by the optimizer."""


class VectorQuantizer(nnx.Module):
    """Nearest-neighbour quantisation of [batch, num_vectors, code_dim] to a codebook.

    With `cosine`, vectors and codes are l2-normalised before the lookup, so the
    quantised vectors lie on the unit sphere; with `lookup_dim`, the lookup happens in a
    learned `lookup_dim`-dimensional projection whose result is projected back to
    `code_dim` (the codebook is [codebook_size, lookup_dim]).
    """

    num_stages = 1

    def __init__(
        self,
        codebook_size: int,
        code_dim: int,
        *,
        commitment_cost: float = 0.25,
        ema_decay: float = 0.99,
        restart_threshold: float = 0.01,
        cosine: bool = False,
        lookup_dim: int | None = None,
        rngs: nnx.Rngs,
    ):
        if not 0.0 <= ema_decay < 1.0:
            raise ValueError(f"config.model.ema_decay={ema_decay} must be in [0, 1).")
        self.codebook_size = codebook_size
        self.code_dim = code_dim
        self.commitment_cost = commitment_cost
        self.ema_decay = ema_decay
        self.restart_threshold = restart_threshold
        self.cosine = cosine
        self.lookup_dim = lookup_dim
        vector_dim = code_dim if lookup_dim is None else lookup_dim
        initial = jax.random.normal(rngs.params(), (codebook_size, vector_dim))
        if ema_decay > 0:
            self.codebook = CodebookStatistic(initial)
            # Counts start at 1 with sums equal to the initial codes, so a code that is
            # never used keeps its value instead of blowing up (sum / count stays put).
            self.cluster_size = CodebookStatistic(jnp.ones((codebook_size,)))
            self.embedding_sum = CodebookStatistic(initial)
        else:
            self.codebook = nnx.Param(initial)
        if lookup_dim is not None:
            self.project_in = nnx.Linear(code_dim, lookup_dim, rngs=rngs)
            self.project_out = nnx.Linear(lookup_dim, code_dim, rngs=rngs)

    @property
    def uses_ema(self) -> bool:
        return self.ema_decay > 0

    def codes(self) -> jax.Array:
        """The codebook as looked up: [codebook_size, lookup_dim or code_dim], unit rows
        with `cosine`."""
        codebook = self.codebook[...]
        return _unit(codebook) if self.cosine else codebook

    def nearest_codes(self, vectors: jax.Array) -> jax.Array:
        """Index of the nearest code (`codes()`) to vectors already in lookup space:
        [..., lookup_dim or code_dim] -> [...] int32."""
        codebook = self.codes()
        distances = (
            jnp.sum(vectors**2, axis=-1, keepdims=True)
            - 2 * vectors @ codebook.T
            + jnp.sum(codebook**2, axis=-1)
        )
        return jnp.argmin(distances, axis=-1).astype(jnp.int32)

    def _ema_update(self, flat: jax.Array, one_hot: jax.Array, rngs: nnx.Rngs | None) -> None:
        """Moves the codebook towards the mean of its assigned vectors (flat [n, D],
        one_hot [n, K]), with Laplace-smoothed counts; restarts dead codes."""
        flat = jax.lax.stop_gradient(flat)
        gamma = self.ema_decay
        counts = one_hot.sum(axis=0)
        cluster_size = gamma * self.cluster_size[...] + (1 - gamma) * counts
        embedding_sum = gamma * self.embedding_sum[...] + (1 - gamma) * one_hot.T @ flat
        total = cluster_size.sum()
        smoothed = (
            (cluster_size + _EMA_EPSILON) / (total + self.codebook_size * _EMA_EPSILON) * total
        )
        codebook = embedding_sum / smoothed[:, None]
        if self.restart_threshold > 0 and rngs is not None:
            dead = cluster_size < self.restart_threshold
            picks = jax.random.randint(rngs.restart(), (self.codebook_size,), 0, flat.shape[0])
            replacement = flat[picks]
            codebook = jnp.where(dead[:, None], replacement, codebook)
            embedding_sum = jnp.where(dead[:, None], replacement, embedding_sum)
            cluster_size = jnp.where(dead, 1.0, cluster_size)
        self.cluster_size[...] = cluster_size
        self.embedding_sum[...] = embedding_sum
        self.codebook[...] = codebook

    def __call__(
        self, z_e: jax.Array, *, train: bool, rngs: nnx.Rngs | None
    ) -> tuple[jax.Array, jax.Array, dict, dict]:
        """Quantises z_e [batch, num_vectors, code_dim].

        Returns (z_q with straight-through gradients [batch, num_vectors, code_dim],
        indices [batch, num_vectors], per-example losses {name: [batch]}, per-example
        metrics {name: [batch]}).
        """
        vectors = z_e if self.lookup_dim is None else self.project_in(z_e)
        if self.cosine:
            vectors = _unit(vectors)
        indices = self.nearest_codes(jax.lax.stop_gradient(vectors))
        one_hot = jax.nn.one_hot(indices, self.codebook_size, dtype=z_e.dtype)
        quantized = jnp.take(self.codes(), indices, axis=0)
        commitment = jnp.sum((vectors - jax.lax.stop_gradient(quantized)) ** 2, axis=(1, 2))
        losses = {"commitment_loss": self.commitment_cost * commitment}
        if not self.uses_ema:
            codebook_loss = jnp.sum((jax.lax.stop_gradient(vectors) - quantized) ** 2, axis=(1, 2))
            losses["codebook_loss"] = codebook_loss
        elif train:
            self._ema_update(
                vectors.reshape(-1, vectors.shape[-1]),
                one_hot.reshape(-1, self.codebook_size),
                rngs,
            )
        z_q = vectors + jax.lax.stop_gradient(quantized - vectors)
        if self.lookup_dim is not None:
            z_q = self.project_out(z_q)
        return z_q, indices, losses, usage_metrics(indices, self.codebook_size)


def _unit(x: jax.Array) -> jax.Array:
    """x / ||x|| over the last axis (zero vectors stay near zero)."""
    return x * jax.lax.rsqrt(jnp.sum(x**2, axis=-1, keepdims=True) + 1e-12)


def usage_metrics(indices: jax.Array, codebook_size: int, suffix: str = "") -> dict:
    """Codebook usage in a batch: indices [batch, ...] int -> {"codebook_perplexity"
    (exp of the entropy of code usage; K for uniform use), "codebook_usage" (fraction of
    the K codes used)}, each broadcast to [batch], names ending in `suffix`."""
    batch = indices.shape[0]
    usage = jax.nn.one_hot(indices.reshape(-1), codebook_size).mean(axis=0)
    entropy = -jnp.sum(usage * jnp.log(usage + 1e-10))
    return {
        f"codebook_perplexity{suffix}": jnp.full((batch,), jnp.exp(entropy)),
        f"codebook_usage{suffix}": jnp.full((batch,), jnp.mean(usage > 0)),
    }


class VQAutoencoder(Autoencoder):
    """An encoder, a vector quantiser and a decoder: [batch, *input_shape] ->
    codes [batch, latent_dim] (quantised, `latent_dim // code_dim` codebook vectors) ->
    [batch, *output_shape].

    `encode` returns the quantised code as `mean`, the quantiser's `losses` and
    `metrics` (see the module docstring), and `extras["indices"]` [batch, num_vectors].
    """

    def __init__(
        self, encoder: nnx.Module, decoder: nnx.Module, latent_dim: int, quantizer: VectorQuantizer
    ):
        if latent_dim % quantizer.code_dim:
            raise ValueError(
                f"config.model.latent_dim={latent_dim} must be a multiple of "
                f"config.model.code_dim={quantizer.code_dim} (the code is latent_dim // "
                "code_dim codebook vectors)."
            )
        super().__init__(encoder, decoder, latent_dim)
        self.quantizer = quantizer

    def encode(
        self, x: jax.Array, *, train: bool = False, rngs: nnx.Rngs | None = None
    ) -> Encoding:
        z_e = self.encoder(x, train=train, rngs=rngs)
        vectors = z_e.reshape(z_e.shape[0], -1, self.quantizer.code_dim)
        z_q, indices, losses, metrics = self.quantizer(vectors, train=train, rngs=rngs)
        return Encoding(
            mean=z_q.reshape(z_e.shape),
            losses=losses,
            metrics=metrics,
            extras={"indices": indices},
        )


def build_vector_quantizer(options: QuantizerOptions, rngs: nnx.Rngs) -> VectorQuantizer:
    """The `VectorQuantizer` described by the model's options."""
    return VectorQuantizer(
        options.codebook_size,
        options.code_dim,
        commitment_cost=options.commitment_cost,
        ema_decay=options.ema_decay,
        restart_threshold=options.restart_threshold,
        cosine=options.cosine,
        lookup_dim=options.lookup_dim,
        rngs=rngs,
    )
