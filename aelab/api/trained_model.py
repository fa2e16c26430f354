"""A trained model for use from Python: encode, decode, reconstruct, sample,
interpolate and score NumPy arrays.

    model = aelab.load("runs/quickstart")          # the best checkpoint
    codes = model.encode(images)                    # [n, latent_dim]
    recon = model.reconstruct(images)               # [n, *input_shape], in [0, 1]
    scores = model.score(images)                    # [n], higher = more anomalous

Inputs are examples as the data set stores them (uint8 pixels for MNIST, values 0-16
for digits, real values for z-normalised series): the run's data transform scales them
(`scaled=True` says they are already model inputs, e.g. in [0, 1]). One example
without its batch axis, or images without their channel axis, are accepted too.
Outputs are in the model's input space ([0, 1] for images) and shaped like the data
set's examples. Big inputs go through the model in batches, each function compiling
once.
"""

from __future__ import annotations

import jax
import numpy as np

from aelab.evaluation.image_quality import mean_squared_error
from aelab.evaluation.likelihood import importance_sampled_log_likelihood
from aelab.evaluation.loading import TrainedRun
from aelab.evaluation.model_calls import ModelCalls

SCORES = ("reconstruction_error", "nll", "negative_elbo")


class TrainedModel:
    """A trained run's model with NumPy-in, NumPy-out calls.

    Args:
      run: the loaded run (`aelab.load` makes it from a work directory, an exported
        model or the Hugging Face Hub).
      batch_size: examples per jitted call.
    """

    def __init__(self, run: TrainedRun, batch_size: int = 500):
        self.run = run
        self._calls = ModelCalls(
            run.graphdef,
            run.params,
            run.model_state,
            run.spec.objective.likelihood,
            batch_size=batch_size,
        )

    def __repr__(self) -> str:
        where = self.run.workdir or "memory"
        return (
            f"TrainedModel({self.run.config.model.name} on {self.info.name}, step "
            f"{self.run.step}, from {where})"
        )

    @property
    def config(self):
        """The config the model was trained with."""
        return self.run.config

    @property
    def step(self) -> int:
        """The training step of the loaded weights."""
        return self.run.step

    @property
    def info(self):
        """The training data set's `DatasetInfo` (input shape, value range)."""
        return self.run.spec.info

    @property
    def is_variational(self) -> bool:
        """Whether the model has a prior to sample from and a likelihood bound."""
        return self._calls.is_variational

    def module(self):
        """The Flax NNX module with the trained weights (eval mode is the caller's)."""
        return self._calls.model()

    def prepare(self, x, *, scaled: bool = False) -> np.ndarray:
        """Examples -> model inputs [n, *example_shape] (float32), as training saw them
        (scaled, flattened; not randomly binarised or corrupted).

        Raises:
          ValueError: examples of another shape than the data set's, or no examples.
        """
        x = np.asarray(x)
        shape = tuple(self.info.input_shape)
        if x.shape == shape or (shape[-1:] == (1,) and x.shape == shape[:-1]):
            x = x[None]
        if x.ndim == len(shape) and shape[-1:] == (1,) and x.shape[1:] == shape[:-1]:
            x = x[..., None]
        if x.shape[1:] != shape:
            raise ValueError(
                f"Examples of shape {x.shape[1:]} (array {x.shape}) do not fit this model, "
                f"trained on {self.info.name} examples of shape {shape}: give an array "
                f"[n, {', '.join(map(str, shape))}]."
            )
        if len(x) == 0:
            raise ValueError("No examples: give an array with at least one row.")
        transform = self.run.spec.transform
        if scaled:
            x = x.astype(np.float32)
            return x.reshape(len(x), -1) if transform.flatten else x
        return transform.prepare_split({transform.input_key: x})["inputs"]

    def _to_example_shape(self, y: np.ndarray) -> np.ndarray:
        shape = tuple(self.info.input_shape)
        if y.shape[1:] != shape and int(np.prod(y.shape[1:])) == int(np.prod(shape)):
            return y.reshape(len(y), *shape)
        return y

    def encode(self, x, *, scaled: bool = False) -> np.ndarray:
        """Codes of examples: the posterior mean for a VAE, [n, *latent_shape]."""
        mean, _ = self._calls.encode(self.prepare(x, scaled=scaled))
        return mean

    def encode_distribution(self, x, *, scaled: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """A VAE's posterior (mean, log-variance) of each example, each [n, *latent]."""
        self._require_variational("encode_distribution")
        return self._calls.encode(self.prepare(x, scaled=scaled))

    def decode(self, z) -> np.ndarray:
        """Codes [n, *latent_shape] -> the decoder's mean in data space [n, *input_shape]."""
        z = np.asarray(z, np.float32)
        return self._to_example_shape(self._calls.decode(z))

    def reconstruct(self, x, *, scaled: bool = False) -> np.ndarray:
        """decode(encode(x)): [n, *input_shape] in the model's input space."""
        return self._to_example_shape(self._calls.reconstruct(self.prepare(x, scaled=scaled)))

    def sample(self, num_samples: int, *, seed: int = 0) -> np.ndarray:
        """Decoded prior samples [num_samples, *input_shape] (variational models)."""
        self._require_variational("sample")
        if num_samples < 1:
            raise ValueError(f"num_samples={num_samples} is not valid: ask for at least one.")
        z = self._calls.sample_prior(jax.random.PRNGKey(seed), int(num_samples))
        return self.decode(z)

    def interpolate(self, a, b, num_steps: int = 8, *, scaled: bool = False) -> np.ndarray:
        """Decodings of codes on the line from example `a`'s code to `b`'s:
        [num_steps, *input_shape] (the first and last are a's and b's reconstructions)."""
        if num_steps < 2:
            raise ValueError(f"num_steps={num_steps} is not valid: it must be at least 2.")
        codes = self.encode(np.stack([np.asarray(a), np.asarray(b)]), scaled=scaled)
        weights = np.linspace(0.0, 1.0, num_steps, dtype=np.float32)
        weights = weights.reshape(-1, *([1] * (codes.ndim - 1)))
        return self.decode((1 - weights) * codes[:1] + weights * codes[1:])

    def score(
        self,
        x,
        kind: str = "reconstruction_error",
        *,
        num_samples: int = 1000,
        seed: int = 0,
        scaled: bool = False,
    ) -> np.ndarray:
        """Anomaly scores [n], higher for less typical examples.

        Args:
          x: examples.
          kind: "reconstruction_error" (mean squared error per example),
            "nll" (the importance-sampled negative log-likelihood, nats; variational
            models) or "negative_elbo" (nats; variational models).
          num_samples: importance samples per example for "nll" / "negative_elbo".
          seed: their randomness.
          scaled: see `prepare`.
        """
        if kind not in SCORES:
            raise ValueError(f"Unknown score {kind!r}; choose one of {', '.join(SCORES)}.")
        inputs = self.prepare(x, scaled=scaled)
        if kind == "reconstruction_error":
            return mean_squared_error(inputs, self._calls.reconstruct(inputs))
        self._require_variational(f"score(kind={kind!r})")
        estimate = importance_sampled_log_likelihood(
            self.run.graphdef,
            self.run.params,
            self.run.model_state,
            self.run.spec.objective.likelihood,
            inputs,
            num_samples=num_samples,
            key=jax.random.PRNGKey(seed),
        )
        chosen = estimate.log_likelihood if kind == "nll" else estimate.elbo
        return -chosen.astype(np.float64)

    def _require_variational(self, what: str) -> None:
        if not self.is_variational:
            raise ValueError(
                f"{what} needs a variational model (a prior and a posterior); "
                f"{self.run.config.model.name} is a deterministic autoencoder. Use encode, "
                "decode, reconstruct or score(kind='reconstruction_error')."
            )
