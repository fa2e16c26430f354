r"""Benchmark: the importance-sampled test NLL (k = 5,000) of the IWAE paper's MLP VAE.

  python benchmarks/importance_sampled_nll.py --num_examples=10000 --num_samples=5000
  python benchmarks/importance_sampled_nll.py --num_examples=10000 --images   # [28, 28, 1]

The model is the 1-stochastic-layer VAE of Burda et al. (2016), 784-200-200-50 with
tanh, with freshly initialised weights (the cost does not depend on the weights), or a
trained run's (--workdir). Inputs: the MNIST test set, dynamically binarised, when
$AELAB_DATA_DIR has it, else random binary images of the same shape.

--method=fused is `aelab.evaluation.likelihood.importance_sampled_log_likelihood` (one
jitted call per 1,000 examples: lax.map over example batches, lax.scan over sample
chunks with a running logsumexp). --method=plain is the straightforward version it
replaces: a jitted call per (example batch, sample chunk) returning log weights to the
host, and a NumPy logsumexp over the stored chunks; --method=plain_nn_softplus is the
same with the Bernoulli log-likelihood written with `jax.nn.softplus` (as before the
stable_softplus change). Prints one JSON object (seconds, examples, samples, mean NLL).
"""

import json
import math
import os
import time

import jax
import jax.numpy as jnp
import numpy as np
from absl import app, flags
from flax import nnx
from scipy.special import logsumexp

from aelab.config import base_config
from aelab.evaluation.likelihood import importance_sampled_log_likelihood
from aelab.evaluation.loading import load_run
from aelab.models import build_model
from aelab.objectives import build_likelihood, log_importance_weights
from aelab.objectives.likelihoods import Bernoulli
from aelab.training.state import merge_model, split_model

_METHOD = flags.DEFINE_enum(
    "method", "fused", ["fused", "plain", "plain_nn_softplus"], "Implementation to time."
)
_NUM_EXAMPLES = flags.DEFINE_integer("num_examples", 10_000, "Test examples.")
_NUM_SAMPLES = flags.DEFINE_integer("num_samples", 5000, "Importance samples k.")
_BATCH = flags.DEFINE_integer("batch_size", 100, "Examples per batch.")
_CHUNK = flags.DEFINE_integer("samples_per_chunk", None, "Samples per step (default: auto).")
_WORKDIR = flags.DEFINE_string("workdir", None, "A trained run to take the weights from.")
_IMAGES = flags.DEFINE_bool(
    "images",
    False,
    "Feed [28, 28, 1] images (as configs/mnist_dense.py's VAEs read them) instead of "
    "[784] vectors; a --workdir run gets the shape it was trained on either way.",
)


class _NnSoftplusBernoulli(Bernoulli):
    """The Bernoulli log-likelihood written with jax.nn.softplus."""

    def log_prob(self, decoded, x):
        return jnp.sum(x * decoded - jax.nn.softplus(decoded), axis=-1)


def _iwae_mlp_vae(shape=(784,)):
    """(graphdef, params, model state) of the freshly initialised 784-200-200-50 tanh VAE
    on examples of `shape` (accelerator_parts.py uses it too)."""
    config = base_config()
    config.model.name = "dense_vae"
    config.model.hidden_dims = (200, 200)
    config.model.latent_dim = 50
    config.model.activation = "tanh"
    model = build_model(config.model, shape, shape, rngs=nnx.Rngs(0))
    return split_model(model)


def _test_inputs(n: int) -> np.ndarray:
    """[n, 784] binarised MNIST test images (random binary images without the data)."""
    if os.environ.get("AELAB_DATA_DIR"):
        from aelab.data import load_split
        from aelab.evaluation.context import load_split_arrays
        from aelab.training.experiment import build_run_spec

        config = base_config()
        config.data.name = "mnist"
        config.data.binarize = "dynamic"
        config.data.flatten = True
        source = load_split(config.data, "test")[0]
        data = load_split_arrays(config, build_run_spec(config), source, max_examples=n)
        return data.inputs
    return (np.random.default_rng(0).random((n, 784)) < 0.13).astype(np.float32)


def _plain(graphdef, params, model_state, likelihood, x, k, batch, chunk, key):
    @jax.jit
    def weights(params, model_state, xb, key):
        model = merge_model(graphdef, params, model_state)
        return log_importance_weights(model, xb, likelihood, rngs=nnx.Rngs(key), num_samples=chunk)

    results = []
    for start in range(0, len(x), batch):
        xb = jnp.asarray(x[start : start + batch])
        chunks = [
            np.asarray(weights(params, model_state, xb, jax.random.fold_in(key, 1000 * start + c)))
            for c in range(math.ceil(k / chunk))
        ]
        log_w = np.concatenate(chunks)[:k]
        results.append(logsumexp(log_w, axis=0) - math.log(k))
    return np.concatenate(results)


def main(argv):
    del argv
    likelihood = build_likelihood("bernoulli")
    shape = (28, 28, 1) if _IMAGES.value else (784,)
    if _WORKDIR.value:
        run = load_run(_WORKDIR.value)
        graphdef, params, model_state = run.graphdef, run.params, run.model_state
        shape = tuple(run.spec.example_shape)
    else:
        graphdef, params, model_state = _iwae_mlp_vae(shape)
    x = _test_inputs(_NUM_EXAMPLES.value).reshape(-1, *shape)
    key = jax.random.PRNGKey(0)
    k, batch = _NUM_SAMPLES.value, _BATCH.value
    chunk = _CHUNK.value or max(1, 5000 // batch)
    start = time.perf_counter()
    if _METHOD.value == "fused":
        log_likelihood = importance_sampled_log_likelihood(
            graphdef,
            params,
            model_state,
            likelihood,
            x,
            num_samples=k,
            key=key,
            batch_size=batch,
            samples_per_chunk=chunk,
        ).log_likelihood
    else:
        if _METHOD.value == "plain_nn_softplus":
            likelihood = _NnSoftplusBernoulli()
        log_likelihood = _plain(graphdef, params, model_state, likelihood, x, k, batch, chunk, key)
    seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "benchmark": "importance_sampled_nll",
                "method": _METHOD.value,
                "seconds": round(seconds, 2),
                "num_examples": len(x),
                "example_shape": list(shape),
                "num_samples": k,
                "batch_size": batch,
                "samples_per_chunk": chunk,
                "nll": float(-np.mean(log_likelihood)),
                "device": jax.devices()[0].device_kind,
                "cpu_count": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    app.run(main)
