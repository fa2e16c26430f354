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

Options (`config.model`, besides the encoder/decoder family's): `QuantizerOptions`.
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
class QuantizerOptions(ModelOptions):
    """`config.model` options of the vector quantiser (the *_vqvae models)."""

    codebook_size: int = option(64, "K: codebook vectors", minimum=1)
    code_dim: int = option(8, "D: values per codebook vector (must divide latent_dim)", minimum=1)
    commitment_cost: float = option(0.25, "beta: weight of the commitment loss", minimum=0.0)
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

    def check(self):
        if self.latent_dim % self.code_dim:
            yield (
                "latent_dim",
                (
                    f"must be a multiple of config.model.code_dim={self.code_dim} (the code is "
                    "latent_dim // code_dim codebook vectors)"
                ),
            )


class CodebookStatistic(nnx.Variable):
    """A codebook array updated by moving averages, not by the optimizer."""


class VectorQuantizer(nnx.Module):
    """Nearest-neighbour quantisation of [batch, num_vectors, code_dim] to a codebook."""

    def __init__(
        self,
        codebook_size: int,
        code_dim: int,
        *,
        commitment_cost: float = 0.25,
        ema_decay: float = 0.99,
        restart_threshold: float = 0.01,
        rngs: nnx.Rngs,
    ):
        if not 0.0 <= ema_decay < 1.0:
            raise ValueError(f"config.model.ema_decay={ema_decay} must be in [0, 1).")
        self.codebook_size = codebook_size
        self.code_dim = code_dim
        self.commitment_cost = commitment_cost
        self.ema_decay = ema_decay
        self.restart_threshold = restart_threshold
        initial = jax.random.normal(rngs.params(), (codebook_size, code_dim))
        if ema_decay > 0:
            self.codebook = CodebookStatistic(initial)
            # Counts start at 1 with sums equal to the initial codes, so a code that is
            # never used keeps its value instead of blowing up (sum / count stays put).
            self.cluster_size = CodebookStatistic(jnp.ones((codebook_size,)))
            self.embedding_sum = CodebookStatistic(initial)
        else:
            self.codebook = nnx.Param(initial)

    @property
    def uses_ema(self) -> bool:
        return self.ema_decay > 0

    def nearest_codes(self, vectors: jax.Array) -> jax.Array:
        """Index of the nearest codebook vector: [..., code_dim] -> [...] int32."""
        codebook = self.codebook[...]
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
        batch = z_e.shape[0]
        indices = self.nearest_codes(jax.lax.stop_gradient(z_e))
        one_hot = jax.nn.one_hot(indices, self.codebook_size, dtype=z_e.dtype)
        quantized = jnp.take(self.codebook[...], indices, axis=0)
        commitment = jnp.sum((z_e - jax.lax.stop_gradient(quantized)) ** 2, axis=(1, 2))
        losses = {"commitment_loss": self.commitment_cost * commitment}
        if not self.uses_ema:
            codebook_loss = jnp.sum((jax.lax.stop_gradient(z_e) - quantized) ** 2, axis=(1, 2))
            losses["codebook_loss"] = codebook_loss
        elif train:
            self._ema_update(
                z_e.reshape(-1, self.code_dim), one_hot.reshape(-1, self.codebook_size), rngs
            )
        z_q = z_e + jax.lax.stop_gradient(quantized - z_e)
        usage = one_hot.reshape(-1, self.codebook_size).mean(axis=0)
        entropy = -jnp.sum(usage * jnp.log(usage + 1e-10))
        metrics = {
            "codebook_perplexity": jnp.full((batch,), jnp.exp(entropy)),
            "codebook_usage": jnp.full((batch,), jnp.mean(usage > 0)),
        }
        return z_q, indices, losses, metrics


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


def build_quantizer(options: QuantizerOptions, rngs: nnx.Rngs) -> VectorQuantizer:
    """The `VectorQuantizer` described by the model's options."""
    return VectorQuantizer(
        options.codebook_size,
        options.code_dim,
        commitment_cost=options.commitment_cost,
        ema_decay=options.ema_decay,
        restart_threshold=options.restart_threshold,
        rngs=rngs,
    )
