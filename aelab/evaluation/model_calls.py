"""A trained model's encode / decode / reconstruct over host arrays, jitted and batched.

Arrays of any length are cut into fixed-size batches (the last one padded), so each
function compiles once.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from aelab.core.contract import (
    condition_of,
    is_conditional_model,
    is_latent_variable_model,
)
from aelab.models.ensemble import is_ensemble
from aelab.training.state import merge_model


def map_in_batches(fn: Callable, inputs: np.ndarray | tuple, batch_size: int):
    """Applies `fn` (on [batch_size, ...] arrays) to `inputs` [n, ...] batch by batch,
    padding the last batch with copies of its first row; returns `fn`'s outputs (a
    pytree of arrays, or None leaves) concatenated to length n, as NumPy arrays.

    `inputs` may be a tuple of arrays of the same length n (an input and its condition):
    `fn` is then called with one batch of each."""
    arrays = inputs if isinstance(inputs, tuple) else (inputs,)
    n = len(arrays[0])
    if n == 0:
        raise ValueError("No examples to evaluate.")
    outputs = []
    for start in range(0, n, batch_size):
        batch = [a[start : start + batch_size] for a in arrays]
        real = len(batch[0])
        if real < batch_size:
            batch = [
                np.concatenate([b, np.repeat(b[:1], batch_size - real, axis=0)]) for b in batch
            ]
        out = jax.device_get(fn(*batch))
        outputs.append(jax.tree.map(lambda a, real=real: np.asarray(a)[:real], out))
    return jax.tree.map(lambda *parts: np.concatenate(parts), *outputs)


class ModelCalls:
    """Batched calls of one trained model (eval mode: no dropout, running statistics).

    A conditional model (`aelab.core.contract.ConditionalModel`) needs its side input:
    `encode`, `decode` and `reconstruct` take `condition=` [n, condition_dim]
    (`label_condition(labels)` makes the one-hot one); without it they raise.

    Args:
      graphdef, params, model_state: the model (see `TrainedRun`).
      likelihood: maps decoder outputs to reconstructions in data space.
      batch_size: examples per jitted call.
    """

    def __init__(self, graphdef, params, model_state, likelihood, batch_size: int = 500):
        self.graphdef = graphdef
        self.params = params
        self.model_state = model_state
        self.likelihood = likelihood
        self.batch_size = batch_size

        def model(params, model_state, condition=None):
            raw = merge_model(graphdef, params, model_state)
            return raw if condition is None else raw.conditioned(condition)

        @jax.jit
        def encode(params, model_state, x, condition=None):
            encoding = model(params, model_state, condition).encode(x, train=False, rngs=None)
            return encoding.mean, encoding.log_var

        @jax.jit
        def decode(params, model_state, z, condition=None):
            decoded = model(params, model_state, condition).decode(z, train=False, rngs=None)
            return likelihood.mean(decoded)

        @jax.jit
        def reconstruct(params, model_state, x, condition=None):
            output = model(params, model_state, condition)(x, train=False, rngs=None)
            return likelihood.mean(output.decoded), output.code

        @jax.jit(static_argnums=3)
        def sample_prior(params, model_state, key, num_samples):
            return model(params, model_state).sample_prior(nnx.Rngs(key), num_samples)

        @jax.jit
        def kl(params, model_state, key, x, condition=None):
            vae = model(params, model_state, condition)
            output = vae(x, train=False, rngs=nnx.Rngs(key))
            return vae.kl_terms(output).sum(axis=-1)

        @jax.jit
        def rate_bits(params, model_state, x):
            codec = model(params, model_state)
            return codec.rate_bits(codec(x, train=False, rngs=None))

        @jax.jit
        def member_reconstructions(params, model_state, x):
            members = model(params, model_state).member_reconstructions(x)
            return jnp.moveaxis(jax.vmap(likelihood.mean)(members), 0, 1)

        self._encode, self._decode, self._reconstruct = encode, decode, reconstruct
        self._member_reconstructions = member_reconstructions
        self._rate_bits = rate_bits
        self._sample_prior = sample_prior
        self._kl = kl

    def model(self) -> nnx.Module:
        return merge_model(self.graphdef, self.params, self.model_state)

    @property
    def is_variational(self) -> bool:
        """Whether the model is a latent-variable model (`aelab.core.contract`)."""
        return is_latent_variable_model(self.model())

    @property
    def is_ensemble(self) -> bool:
        """Whether the model is a deep ensemble (`aelab.models.ensemble`)."""
        return is_ensemble(self.model())

    @property
    def condition_dim(self) -> int | None:
        """The size of a conditional model's side input; None for other models."""
        model = self.model()
        return model.condition_dim if is_conditional_model(model) else None

    def label_condition(self, labels: np.ndarray | None) -> np.ndarray | None:
        """The side input a conditional model reads for `labels` [n] (one-hot, float32
        [n, condition_dim]); None for an unconditional model."""
        dim = self.condition_dim
        if dim is None:
            return None
        if labels is None:
            raise ValueError(
                "This model is conditional (config.model.conditioning) and this data has no "
                "labels to condition on; evaluate it on a labelled data set."
            )
        return np.asarray(condition_of({"label": np.asarray(labels)}, dim))

    def _call(self, fn, x: np.ndarray, condition: np.ndarray | None):
        if condition is None:
            if self.condition_dim is not None:
                raise ValueError(
                    "This model is conditional (config.model.conditioning): this evaluator "
                    "calls it without a condition; use one that passes the labels "
                    "(reconstruction, feature_distance, conditional_generation, likelihood "
                    "through the objective)."
                )
            return map_in_batches(
                lambda b: fn(self.params, self.model_state, b), x, self.batch_size
            )
        return map_in_batches(
            lambda b, c: fn(self.params, self.model_state, b, c),
            (x, np.asarray(condition, np.float32)),
            self.batch_size,
        )

    def encode(
        self, x: np.ndarray, condition: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """(code or posterior mean [n, *latent], posterior log-variance or None)."""
        return self._call(self._encode, x, condition)

    def codes(self, x: np.ndarray, condition: np.ndarray | None = None) -> np.ndarray:
        """The deterministic code of each example (a VAE's posterior mean), flattened:
        [n, code_size]."""
        mean, _ = self.encode(x, condition)
        return mean.reshape(len(mean), -1)

    def decode(self, z: np.ndarray, condition: np.ndarray | None = None) -> np.ndarray:
        """Reconstructions in data space (the likelihood's mean) of codes z [n, *latent]
        (under condition [n, condition_dim] for a conditional model)."""
        return self._call(self._decode, z, condition)

    def reconstruct(self, x: np.ndarray, condition: np.ndarray | None = None) -> np.ndarray:
        """decode(code of x) in data space: [n, *data_shape]. For a VAE the code is the
        posterior mean."""
        reconstructions, _ = self._call(self._reconstruct, x, condition)
        return reconstructions

    def member_reconstructions(self, x: np.ndarray) -> np.ndarray:
        """A deep ensemble's reconstructions of x by each member, in data space (the
        likelihood's mean): [n, K, *data_shape]."""
        if not self.is_ensemble:
            raise ValueError(
                "Per-member reconstructions need a deep ensemble: set "
                "config.model.ensemble_members to 2 or more."
            )
        return self._call(self._member_reconstructions, x, None)

    def kl(self, x: np.ndarray, key: jax.Array, condition: np.ndarray | None = None) -> np.ndarray:
        """KL(q(z | x) || p(z)) of a VAE per example, [n] (nats): analytic for one
        Gaussian layer, a one-sample estimate for hierarchical models (a conditional
        VAE's KL(q(z | x, c) || p(z)) under condition [n, condition_dim])."""
        keys = iter(jax.random.split(key, len(x) // self.batch_size + 1))
        return self._call(
            lambda params, state, *batch: self._kl(params, state, next(keys), *batch),
            x,
            condition,
        )

    def rate_bits(self, x: np.ndarray) -> np.ndarray:
        """A compressive model's entropy-model estimate of the bits of each example's
        quantized code (`CompressionModel.rate_bits`): [n]."""
        return map_in_batches(
            lambda b: self._rate_bits(self.params, self.model_state, b), x, self.batch_size
        )

    def sample_prior(self, key: jax.Array, num_samples: int) -> np.ndarray:
        """Codes drawn from a VAE's prior: [num_samples, *latent]."""
        return np.asarray(self._sample_prior(self.params, self.model_state, key, num_samples))
