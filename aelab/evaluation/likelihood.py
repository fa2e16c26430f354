"""Likelihood: the importance-sampled test NLL, the ELBO, bits/dim and active units.

With k samples z_i ~ q(z | x) and log weights log w_i = log p(x, z_i) - log q(z_i | x)
(`aelab.objectives.bounds.log_importance_weights`, which a model with several
stochastic layers answers itself), the estimate of log p(x) is

    log p̂_k(x) = logsumexp_i(log w_i) - log k    (the IWAE bound; -> log p(x) as k grows)

and the ELBO estimate is mean_i(log w_i). The IWAE paper (Burda et al., 2016) reports
the test NLL -mean_x log p̂_5000(x).

Speed: the whole computation for a block of examples is one jitted call: `lax.map`
over example batches, and for each a `lax.scan` over chunks of samples that keeps a
running logsumexp (max and rescaled sum), so memory holds one chunk of
[samples_per_chunk * batch] decoder outputs whatever k is, and nothing returns to the
host until the block is done. Each chunk decodes samples_per_chunk * batch codes in one
matmul-sized batch.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time

import jax
import jax.numpy as jnp
import numpy as np
from absl import logging
from flax import nnx

from aelab.core.options import option, options_class
from aelab.evaluation.registry import Evaluator, register_evaluator
from aelab.objectives.bounds import log_importance_weights
from aelab.training.state import merge_model


@dataclasses.dataclass(frozen=True)
class ImportanceSampledEstimate:
    """Per-example results of importance sampling.

    Attributes:
      log_likelihood: [n] log p̂_k(x) = logsumexp(log w) - log k (nats).
      elbo: [n] mean of the k log weights (nats).
    """

    log_likelihood: np.ndarray
    elbo: np.ndarray


@functools.lru_cache(maxsize=8)  # one compilation per model and k, also across calls
def _make_block_fn(graphdef, likelihood, num_samples: int, samples_per_chunk: int):
    """A jitted (params, model_state, x [m, b, ...], conditions [m, b, c] or None,
    keys [m, 2]) -> ([m, b], [m, b])."""
    num_chunks = -(-num_samples // samples_per_chunk)
    log_k = math.log(num_samples)

    def block(params, model_state, x_batches, condition_batches, keys):
        raw = merge_model(graphdef, params, model_state)

        def one_batch(args):
            x, condition, key = args
            batch = x.shape[0]
            # A conditional VAE scores log p(x | c) with the batch's side input bound.
            model = raw if condition is None else raw.conditioned(condition)

            def chunk(carry, index):
                running_max, running_sum, weight_sum = carry
                log_w = log_importance_weights(
                    model,
                    x,
                    likelihood,
                    rngs=nnx.Rngs(jax.random.fold_in(key, index)),
                    num_samples=samples_per_chunk,
                )  # [samples_per_chunk, batch]
                # The last chunk may run past k: its surplus samples get weight zero.
                real = (index * samples_per_chunk + jnp.arange(samples_per_chunk)) < num_samples
                log_w_real = jnp.where(real[:, None], log_w, -jnp.inf)
                new_max = jnp.maximum(running_max, jnp.max(log_w_real, axis=0))
                running_sum = running_sum * jnp.exp(running_max - new_max) + jnp.sum(
                    jnp.exp(log_w_real - new_max), axis=0
                )
                weight_sum = weight_sum + jnp.sum(jnp.where(real[:, None], log_w, 0.0), axis=0)
                return (new_max, running_sum, weight_sum), None

            init = (
                jnp.full((batch,), -jnp.inf, jnp.float32),
                jnp.zeros((batch,), jnp.float32),
                jnp.zeros((batch,), jnp.float32),
            )
            (running_max, running_sum, weight_sum), _ = jax.lax.scan(
                chunk, init, jnp.arange(num_chunks)
            )
            return running_max + jnp.log(running_sum) - log_k, weight_sum / num_samples

        return jax.lax.map(one_batch, (x_batches, condition_batches, keys))

    return jax.jit(block)


def importance_sampled_log_likelihood(
    graphdef: nnx.GraphDef,
    params: dict,
    model_state: dict,
    likelihood,
    x: np.ndarray,
    *,
    num_samples: int,
    key: jax.Array,
    batch_size: int = 100,
    samples_per_chunk: int | None = None,
    examples_per_call: int = 1000,
    log_progress: bool = False,
    conditions: np.ndarray | None = None,
) -> ImportanceSampledEstimate:
    """log p̂_k(x) and the k-sample ELBO estimate of each example of x.

    Args:
      graphdef, params, model_state: a variational model (one Gaussian layer, or a model
        with its own `log_importance_weights`).
      likelihood: the model's observation likelihood.
      x: [n, *example_shape] examples.
      num_samples: k.
      key: randomness; example batch j uses fold_in(key, j), chunk c of it fold_in(., c),
        so results do not depend on `examples_per_call`.
      batch_size: examples per batch (the padded last batch is discarded).
      samples_per_chunk: samples per scan step; default: about 5,000 decoded rows per
        step (samples_per_chunk * batch_size), at most k.
      examples_per_call: examples per host call (progress is logged between calls).
      conditions: [n, condition_dim] side inputs of a conditional model (then the
        estimates are of log p(x | c)); None for an unconditional one.
    Returns:
      An `ImportanceSampledEstimate` with [n] arrays (float32 computations, in nats).
    """
    if num_samples < 1:
        raise ValueError(f"num_samples={num_samples} is not valid; it must be at least 1.")
    n = len(x)
    if samples_per_chunk is None:
        samples_per_chunk = max(1, 5000 // batch_size)
    samples_per_chunk = min(samples_per_chunk, num_samples)
    num_batches = -(-n // batch_size)

    def in_batches(a: np.ndarray) -> np.ndarray:
        """[n, ...] -> [num_batches, batch_size, ...], padded with copies of a[0]."""
        padded = np.concatenate([a, np.repeat(a[:1], num_batches * batch_size - n, axis=0)])
        return padded.reshape(num_batches, batch_size, *a.shape[1:])

    batches = in_batches(x)
    condition_batches = None
    if conditions is not None:
        condition_batches = in_batches(np.asarray(conditions, np.float32))
    keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(num_batches))
    block = _make_block_fn(graphdef, likelihood, num_samples, samples_per_chunk)
    batches_per_call = max(1, examples_per_call // batch_size)
    log_likelihood, elbo = [], []
    start = time.perf_counter()
    for first in range(0, num_batches, batches_per_call):
        chunk = slice(first, first + batches_per_call)
        given = None if condition_batches is None else condition_batches[chunk]
        ll, lb = jax.device_get(block(params, model_state, batches[chunk], given, keys[chunk]))
        log_likelihood.append(np.asarray(ll).reshape(-1))
        elbo.append(np.asarray(lb).reshape(-1))
        if log_progress:
            done = min(n, (first + batches_per_call) * batch_size)
            logging.info(
                "importance sampling (k=%d): %d / %d examples, %.0f s",
                num_samples,
                done,
                n,
                time.perf_counter() - start,
            )
    estimate = ImportanceSampledEstimate(
        log_likelihood=np.concatenate(log_likelihood)[:n], elbo=np.concatenate(elbo)[:n]
    )
    if not np.all(np.isfinite(estimate.log_likelihood)):
        bad = int(np.sum(~np.isfinite(estimate.log_likelihood)))
        raise FloatingPointError(
            f"The importance-sampled log-likelihood is not finite for {bad} of {n} examples; "
            "the model's weights or outputs contain NaN or infinity."
        )
    return estimate


def active_units(posterior_means: np.ndarray, threshold: float = 0.01) -> int:
    """The IWAE paper's count of active latent units: dimensions u whose posterior mean
    varies over the data, Cov_x(E_q(u|x)[u]) > threshold.

    Args:
      posterior_means: [n, latent_size] E_q[u | x] for each example.
    """
    variances = np.var(np.asarray(posterior_means, np.float64), axis=0)
    return int(np.sum(variances > threshold))


@register_evaluator("likelihood")
@options_class
class LikelihoodEvaluator(Evaluator):
    """Importance-sampled NLL with k samples, ELBO, bits/dim and active units.

    Metrics (nats per example unless named otherwise):
      nll: -mean log p̂_k(x); nll_stderr: its standard error over examples;
      elbo: mean over examples of the k-sample ELBO estimate;
      kl: mean KL(q(z | x) || p(z)), the rate; distortion: -elbo - kl, the expected
        negative log-likelihood of x under its posterior codes;
      bits_per_dim: nll / (D ln 2), D = values per example (for data scaled to [0, 1]
        and modelled by a density, add log2(256) = 8 for the usual 8-bit figure);
      active_units: the count of posterior-mean dimensions (of the first stochastic
        layer) with variance over the split above `active_threshold`;
      num_samples, num_examples.

    Options:
      num_samples: k (the IWAE paper uses 5,000).
      max_examples: evaluate the first this many examples (None: the whole split).
      batch_size, samples_per_chunk, examples_per_call: see
        `importance_sampled_log_likelihood` (memory and speed only, not the result).
      active_threshold: the active-units variance threshold (the paper's 10^-2).
    """

    num_samples: int = option(5000, "k importance samples (the IWAE paper uses 5,000)", minimum=1)
    max_examples: int | None = option(
        None, "evaluate the first this many examples (None: the whole split)", minimum=1
    )
    batch_size: int = option(100, "examples per batch (memory and speed only)", minimum=1)
    samples_per_chunk: int | None = option(
        None, "samples per scan step (None: about 5,000 decoded rows a step)", minimum=1
    )
    examples_per_call: int = option(
        1000, "examples per host call (progress is logged between calls)", minimum=1
    )
    active_threshold: float = option(
        0.01, "the active-units variance threshold (the paper's 10^-2)", minimum=0.0
    )

    def __call__(self, context) -> dict[str, float]:
        if not context.model_calls.is_variational:
            raise ValueError(
                f"Evaluator 'likelihood' needs a variational model; {context.config.model.name!r} "
                "is not. Remove it from config.evals (or --evals)."
            )
        data = context.split("eval", labels=context.eval_labels(), max_examples=self.max_examples)
        # A conditional VAE is scored by log p(x | label) (None: an unconditional model).
        condition = context.model_calls.label_condition(data.labels)
        run = context.run
        estimate = importance_sampled_log_likelihood(
            run.graphdef,
            run.params,
            run.model_state,
            context.likelihood,
            data.inputs,
            num_samples=self.num_samples,
            key=context.key("likelihood"),
            batch_size=self.batch_size,
            samples_per_chunk=self.samples_per_chunk,
            examples_per_call=self.examples_per_call,
            log_progress=True,
            conditions=condition,
        )
        nll = -estimate.log_likelihood.astype(np.float64)
        dims = math.prod(data.inputs.shape[1:])
        means = context.model_calls.codes(data.inputs, condition)
        kl = context.model_calls.kl(data.inputs, context.key("likelihood_kl"), condition)
        kl = kl.astype(np.float64)
        elbo = float(estimate.elbo.astype(np.float64).mean())
        return {
            "nll": float(nll.mean()),
            "nll_stderr": float(nll.std(ddof=1) / math.sqrt(len(nll))) if len(nll) > 1 else 0.0,
            "elbo": elbo,
            "kl": float(kl.mean()),
            "distortion": -elbo - float(kl.mean()),
            "bits_per_dim": float(nll.mean() / (dims * math.log(2))),
            "active_units": float(active_units(means, self.active_threshold)),
            "num_samples": float(self.num_samples),
            "num_examples": float(len(nll)),
        }
