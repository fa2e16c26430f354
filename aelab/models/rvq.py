"""Residual vector quantisation (RVQ; Zeghidour et al., 2021, SoundStream).

Stage 1 quantises each code vector with a `VectorQuantizer`; stage s quantises the
residual left by stages 1..s-1, so the code is the sum of one codebook vector per stage
and the index of a vector is one index per stage (num_stages * log2 K bits). The stages
have separate codebooks, or one shared codebook (`shared_codebook`). Each stage has its
own commitment loss and codebook loss or EMA update, exactly as a single
`VectorQuantizer`. With `quantizer_dropout`, each training example uses only its first
n stages, n uniform in 1..num_stages (SoundStream's quantiser dropout: one model serves
every bitrate); the dropped stages' losses are masked for that example (their EMA
updates still see the whole batch). Evaluation uses every stage.

Options (`config.model`): `RVQOptions` (with `QuantizerOptions`: K per stage).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from aelab.core.options import option, options_class
from aelab.models.vq import QuantizerOptions, VectorQuantizer, build_vector_quantizer


@options_class
class RVQOptions(QuantizerOptions):
    """`config.model` options of residual vector quantisation (quantizer "rvq")."""

    num_stages: int = option(2, "rvq: quantisation stages", minimum=1)
    shared_codebook: bool = option(False, "rvq: one codebook for all stages")
    quantizer_dropout: bool = option(
        False, "rvq: train each example with a random number of stages (1..num_stages)"
    )

    def check(self):
        yield from QuantizerOptions.check(self)
        if self.lookup_dim is not None:
            # The stages' sum passes the gradient straight through to the encoder only,
            # so a projection back from the lookup space would never learn.
            yield ("lookup_dim", "must be None for rvq (its stages quantise in code space)")


class ResidualVectorQuantizer(nnx.Module):
    """`num_stages` vector quantisers, each on the residual of the previous ones:
    [batch, num_vectors, code_dim] -> the same, indices [batch, num_vectors, num_stages]."""

    def __init__(
        self,
        stages: list[VectorQuantizer],
        num_stages: int,
        *,
        quantizer_dropout: bool = False,
    ):
        if len(stages) not in (1, num_stages):
            raise ValueError(f"Give 1 (shared) or {num_stages} quantisers, not {len(stages)}.")
        self.stages = nnx.List(stages)
        self.num_stages = num_stages
        self.quantizer_dropout = quantizer_dropout
        self.code_dim = stages[0].code_dim
        self.codebook_size = stages[0].codebook_size

    def stage(self, s: int) -> VectorQuantizer:
        return self.stages[s if len(self.stages) > 1 else 0]

    def __call__(
        self,
        z_e: jax.Array,
        *,
        train: bool,
        rngs: nnx.Rngs | None,
        num_stages: int | None = None,
    ) -> tuple[jax.Array, jax.Array, dict, dict]:
        """Quantises z_e [batch, num_vectors, code_dim] with the first `num_stages`
        stages (None: all, or a random number per example under quantizer dropout).

        Returns (z_q with straight-through gradients [batch, num_vectors, code_dim],
        indices [batch, num_vectors, stages used], per-example losses {name: [batch]}
        summed over stages, metrics {name: [batch]}: usage per stage ("_stage<s>") and
        "active_stages").
        """
        batch = z_e.shape[0]
        used = self.num_stages if num_stages is None else num_stages
        if num_stages is None and train and self.quantizer_dropout and rngs is not None:
            active = jax.random.randint(rngs.quantizer_dropout(), (batch,), 1, used + 1)
        else:
            active = jnp.full((batch,), used)
        residual = z_e
        total = jnp.zeros_like(z_e)
        losses: dict = {}
        metrics: dict = {"active_stages": active.astype(z_e.dtype)}
        indices = []
        for s in range(used):
            quantized, stage_indices, stage_losses, stage_metrics = self.stage(s)(
                residual, train=train, rngs=rngs
            )
            mask = (s < active).astype(z_e.dtype)
            # Each stage's straight-through output carries the gradient to the residual
            # it saw; the sum below takes only its value (z_q's gradient is identity).
            quantized = jax.lax.stop_gradient(quantized)
            total = total + mask[:, None, None] * quantized
            residual = residual - quantized
            for name, value in stage_losses.items():
                losses[name] = losses.get(name, 0.0) + mask * value
            for name, value in stage_metrics.items():
                metrics[f"{name}_stage{s}"] = value
            indices.append(stage_indices)
        z_q = z_e + jax.lax.stop_gradient(total - z_e)
        return z_q, jnp.stack(indices, axis=-1), losses, metrics


def build_rvq(options: RVQOptions, rngs: nnx.Rngs) -> ResidualVectorQuantizer:
    """The `ResidualVectorQuantizer` of the model's options."""
    count = 1 if options.shared_codebook else options.num_stages
    stages = [build_vector_quantizer(options, rngs) for _ in range(count)]
    return ResidualVectorQuantizer(
        stages, options.num_stages, quantizer_dropout=options.quantizer_dropout
    )
