"""Codebook health of a quantised bottleneck (the *_vqvae models) on the evaluation split:
how many codes the data uses, how evenly, and how many bits an example's code takes."""

from __future__ import annotations

import math

import jax
import numpy as np

from aelab.core.options import option, options_class
from aelab.evaluation.model_calls import map_in_batches
from aelab.evaluation.registry import Evaluator, register_evaluator
from aelab.training.state import merge_model


def codebook_statistics(indices: np.ndarray, codebook_size: int) -> dict[str, float]:
    """Usage of a codebook of `codebook_size` codes by indices [...] (ints in [0, K)).

    Returns {"utilisation": fraction of the codes used at least once, "perplexity":
    exp of the entropy of the code frequencies (K for uniform use, 1 for one code),
    "dead_codes": codes never used, "entropy_bits": that entropy in bits}.
    """
    counts = np.bincount(np.asarray(indices).ravel(), minlength=codebook_size)
    frequencies = counts[counts > 0] / counts.sum()
    entropy = float(-np.sum(frequencies * np.log(frequencies)))
    used = int(np.count_nonzero(counts))
    return {
        "utilisation": used / codebook_size,
        "perplexity": math.exp(entropy),
        "dead_codes": float(codebook_size - used),
        "entropy_bits": entropy / math.log(2),
    }


@register_evaluator("codebook")
@options_class
class CodebookEvaluator(Evaluator):
    """Codebook usage of a quantised model over the evaluation split.

    Metrics: utilisation, perplexity, dead_codes, entropy_bits (`codebook_statistics`
    over all code vectors of all examples; for residual VQ, pooled over the stages, and
    per stage as <metric>_stage<s>); codebook_size (K
    per stage), num_vectors (code vectors per example), num_stages, bits_per_example
    (num_vectors * num_stages * log2 K: the fixed-length code).

    Options:
      max_examples: the first this many examples (None: the whole split).
    """

    max_examples: int | None = option(
        None, "the first this many evaluation examples (None: all)", minimum=1
    )

    def __call__(self, context) -> dict[str, float]:
        run = context.run
        quantizer = getattr(
            merge_model(run.graphdef, run.params, run.model_state), "quantizer", None
        )
        if quantizer is None:
            raise ValueError(
                "The codebook evaluator needs a model with a quantiser (a *_vqvae model); "
                f"config.model.name={context.config.model.name!r} has none."
            )

        @jax.jit
        def indices_of(params, model_state, x):
            model = merge_model(run.graphdef, params, model_state)
            return model.encode(x, train=False, rngs=None).extras["indices"]

        data = context.split("eval", max_examples=self.max_examples)
        indices = map_in_batches(
            lambda b: indices_of(run.params, run.model_state, b),
            data.inputs,
            context.model_calls.batch_size,
        )
        size, stages = quantizer.codebook_size, quantizer.num_stages
        metrics = codebook_statistics(indices, size)
        if stages > 1:
            for s in range(stages):
                for name, value in codebook_statistics(indices[..., s], size).items():
                    metrics[f"{name}_stage{s}"] = value
        num_vectors = indices.shape[1]
        metrics.update(
            codebook_size=float(size),
            num_vectors=float(num_vectors),
            num_stages=float(stages),
            bits_per_example=num_vectors * stages * math.log2(size),
        )
        return metrics
