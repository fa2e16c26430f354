"""The model contract: what every aelab model provides, and the hooks latent-variable
models add. Objectives and evaluators rely on these declarations, never on probing.

Every model (`Model`) is a Flax NNX module with:

- ``latent_dim``: the number of code values per example.
- ``encode(x, *, train, rngs) -> Encoding``: the code of ``x`` [batch, *input_shape]
  (for a VAE, the posterior q(z | x)).
- ``decode(z, *, train, rngs) -> jax.Array``: the parameters of p(x | z) per data
  dimension (logits, means, ...), ``[batch, *output_shape]``; what they mean is the
  objective's business.
- ``reconstruct(z, x, *, train, rngs) -> jax.Array``: ``decode(z)`` as the
  reconstruction of ``x`` (an autoregressive decoder trained with teacher forcing reads
  ``x`` in training mode; everything else ignores it).
- ``__call__(x, *, train, rngs) -> ModelOutput``: encode, pick a code (a posterior
  sample for a VAE when ``rngs`` is given, its mean otherwise), reconstruct.

A latent-variable model (`LatentVariableModel`: the VAEs) also provides:

- ``num_stochastic_layers``: 1 for one Gaussian latent, more for hierarchical models
  (whose KL has no closed form and whose posterior is not one Gaussian).
- ``sample_posterior(encoding, rngs, num_samples=None)``: reparameterised samples of
  the (first-layer) code, ``[batch, latent]`` or ``[num_samples, batch, latent]``.
- ``sample_prior(rngs, num_samples) -> [num_samples, latent]``: codes from the prior.
- ``kl_terms(output) -> [batch, groups]``: KL(q || p) per group of latent units (the
  analytic per-dimension KL of a Gaussian VAE with the N(0, I) prior; one Monte-Carlo
  estimate per layer for hierarchical ones, or of the whole code with a learned prior or
  a flow posterior). Their sum is the KL term of the ELBO; free bits act per group.
  One-latent VAEs (`GaussianVAE`) also declare ``analytic_kl``: whether that KL is the
  closed form (the objectives built on the Gaussian posterior and the N(0, I) prior,
  beta-TC-VAE and DIP-VAE, require it).
- ``log_importance_weights(x, likelihood, *, rngs, num_samples, train=False)``:
  ``log p(x, z) - log q(z | x)`` for ``num_samples`` joint posterior samples,
  ``[num_samples, batch]``: what the IWAE bound and the importance-sampled NLL need.

A compressive model (`CompressionModel`: the learned codecs) quantizes its code and
carries a learned probability model of it:

- ``latent_shape``: the shape of one example's latent y.
- ``num_hyper_stages``: 0 for a factorized prior, 1 for a scale hyperprior.
- ``__call__`` quantizes y (additive uniform noise in training, rounding otherwise);
  ``output.code`` is what was decoded.
- ``rate_bits(output) -> [batch]``: -log2 of the quantized code's probability under the
  model (side information included): the bits an ideal entropy coder spends.
- ``density_logits_cdf(values [..., C])``: the logits of the CDF of the factorized
  density (of y_hat for a factorized prior, of the side information z_hat for a
  hyperprior), from which `aelab.codec` computes the entropy coder's tables.
- with a hyperprior, ``side_information(y) -> z`` and ``conditional_scales(z_hat) ->
  sigma`` (the Gaussian scale of each latent).

A classifier (`Classifier`: `conv_classifier`) is a `Model` whose code is its feature
vector and whose decoder is its classification head, so it trains through the same loop:

- ``num_classes``: K; ``encode(x).mean`` is the penultimate features [batch, features]
  (what the feature distance compares) and ``decode(features)`` the class logits
  [batch, K]: the parameters of p(label | x), not of p(x | z). It reconstructs nothing.
- ``feature_dim``: the number of features.

A conditional model (`ConditionalModel`: a `<family>_ae` / `<family>_vae` with
``config.model.conditioning`` other than "none") reads a side input c [batch,
condition_dim] in its encoder and its decoder:

- ``condition_dim``: the size of c.
- ``conditioned(c) -> Model``: the model with c bound: a view providing the contract
  of the model (and the latent-variable hooks of a conditional VAE) for that batch.
  The train and evaluation steps bind the batch's condition (`bind_condition`:
  ``batch["condition"]`` if present, else the one-hot ``batch["label"]``), so objectives
  see an ordinary model.

``train`` switches dropout and batch statistics; ``rngs`` (an ``nnx.Rngs``) supplies the
randomness and may be None in evaluation. A network knows nothing of its loss:
auxiliary losses a model contributes (a VQ-VAE's commitment loss) are reported in
``Encoding.losses`` and added by every objective.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import jax
import jax.numpy as jnp
from flax import nnx, struct


@struct.dataclass
class Encoding:
    """What an encoder says about a batch.

    Attributes:
      mean: [batch, *latent_shape]. The code of a deterministic autoencoder, or the mean of
        a Gaussian posterior q(z | x).
      log_var: [batch, *latent_shape] log-variance of q(z | x), or None for a
        deterministic code.
      losses: {name: [batch]} auxiliary per-example losses the model contributes (a
        VQ-VAE's commitment and codebook losses); every objective adds their sum to its
        loss and logs each.
      metrics: {name: [batch]} per-example values to log (codebook usage).
      extras: other model-specific outputs (codebook indices, a hierarchy's upper
        latents), keyed by name; objectives do not read them.
    """

    mean: jax.Array
    log_var: jax.Array | None = None
    losses: dict = struct.field(default_factory=dict)
    metrics: dict = struct.field(default_factory=dict)
    extras: dict = struct.field(default_factory=dict)

    @property
    def is_stochastic(self) -> bool:
        return self.log_var is not None


@struct.dataclass
class ModelOutput:
    """The result of ``model(x)``.

    Attributes:
      encoding: the `Encoding` of the input.
      code: [batch, *latent_shape] the code that was decoded.
      decoded: [batch, *output_shape] decoder output (parameters of p(x | z)).
    """

    encoding: Encoding
    code: jax.Array
    decoded: jax.Array


@runtime_checkable
class Model(Protocol):
    """What every model provides (see the module docstring)."""

    latent_dim: int

    def encode(self, x: jax.Array, *, train: bool = False, rngs: nnx.Rngs | None = None):
        """x [batch, *input_shape] -> Encoding."""

    def decode(self, z: jax.Array, *, train: bool = False, rngs: nnx.Rngs | None = None):
        """z [batch, *latent_shape] -> decoder output [batch, *output_shape]."""

    def reconstruct(self, z: jax.Array, x: jax.Array, *, train: bool, rngs: nnx.Rngs | None):
        """decode(z) as the reconstruction of x [batch, *input_shape]."""

    def __call__(self, x: jax.Array, *, train: bool = False, rngs: nnx.Rngs | None = None):
        """x -> ModelOutput."""


@runtime_checkable
class LatentVariableModel(Model, Protocol):
    """A model with a prior and a posterior over its code (see the module docstring)."""

    num_stochastic_layers: int

    def sample_posterior(self, encoding: Encoding, rngs: nnx.Rngs, num_samples=None):
        """Reparameterised samples: [batch, latent] or [num_samples, batch, latent]."""

    def sample_prior(self, rngs: nnx.Rngs, num_samples: int):
        """Codes from the prior: [num_samples, latent]."""

    def kl_terms(self, output: ModelOutput):
        """KL(q || p) per group of latent units: [batch, groups]."""

    def log_importance_weights(
        self, x: jax.Array, likelihood, *, rngs: nnx.Rngs, num_samples: int, train: bool = False
    ):
        """log p(x, z) - log q(z | x) for num_samples joint samples: [num_samples, batch]."""


@runtime_checkable
class CompressionModel(Model, Protocol):
    """A model with a quantized code and a learned entropy model (see the module
    docstring)."""

    latent_shape: tuple[int, ...]
    num_hyper_stages: int

    def rate_bits(self, output: ModelOutput):
        """-log2 P(quantized code) per example: [batch] bits."""

    def density_logits_cdf(self, values: jax.Array):
        """Logits of the factorized density's CDF: [..., C] -> [..., C]."""


@runtime_checkable
class Classifier(Model, Protocol):
    """A model whose code is its features and whose decoder is its classification head
    (see the module docstring)."""

    num_classes: int
    feature_dim: int


@runtime_checkable
class ConditionalModel(Model, Protocol):
    """A model that reads a side input in its encoder and decoder (see the module
    docstring)."""

    condition_dim: int

    def conditioned(self, condition: jax.Array):
        """The model with condition [batch, condition_dim] bound: a `Model`."""


def is_classifier(model: object) -> bool:
    """Whether `model` is a `Classifier` (its code is features, its decoder a head)."""
    return isinstance(model, Classifier)


def is_conditional_model(model: object) -> bool:
    """Whether `model` reads a side input (`ConditionalModel`)."""
    return isinstance(model, ConditionalModel)


def condition_of(batch: dict, condition_dim: int) -> jax.Array:
    """The side input of a batch, float32 [batch, condition_dim]: ``batch["condition"]``
    if present, else ``one_hot(batch["label"], condition_dim)``.

    Raises:
      ValueError: the batch has neither, or a condition of the wrong size.
    """
    if "condition" in batch:
        condition = jnp.asarray(batch["condition"], jnp.float32)
    elif "label" in batch:
        condition = jax.nn.one_hot(batch["label"], condition_dim, dtype=jnp.float32)
    else:
        raise ValueError(
            "A conditional model needs batch['label'] (or batch['condition']) and this batch "
            "has neither: use a labelled data set, or config.model.conditioning='none'."
        )
    if condition.shape[-1] != condition_dim:
        raise ValueError(
            f"The batch's condition has {condition.shape[-1]} values per example; the model "
            f"reads config.model.condition_dim={condition_dim}."
        )
    return condition


def bind_condition(model, batch: dict):
    """`model` with the batch's condition bound when it is a `ConditionalModel`, else
    `model` itself: what the train and evaluation steps hand the objective."""
    if not is_conditional_model(model):
        return model
    return model.conditioned(condition_of(batch, model.condition_dim))


def is_compression_model(model: object) -> bool:
    """Whether `model` provides the `CompressionModel` hooks (a learned codec)."""
    return isinstance(model, CompressionModel)


def require_compression_model(model: object, what: str) -> None:
    """Raises a ValueError naming `what` when `model` is not a `CompressionModel`."""
    if not is_compression_model(model):
        raise ValueError(
            f"{what} needs a compressive model (a quantized code with a learned entropy "
            f"model); {type(model).__name__} is not. Use model.name='factorized_prior' or "
            "'scale_hyperprior'."
        )


def is_latent_variable_model(model: object) -> bool:
    """Whether `model` provides the `LatentVariableModel` hooks (a VAE)."""
    return isinstance(model, LatentVariableModel)


def require_latent_variable_model(model: object, what: str) -> None:
    """Raises a ValueError naming `what` (an objective or evaluator) when `model` is not a
    latent-variable model."""
    if not is_latent_variable_model(model):
        raise ValueError(
            f"{what} needs a variational model (a prior and a posterior over the code); "
            f"{type(model).__name__} is not. Use a *_vae model, or a reconstruction "
            "objective."
        )
