"""The interface every aelab model follows.

A model is a Flax NNX module with three methods:

- ``encode(x, *, train, rngs) -> Encoding``: the code of ``x`` (for a VAE, the posterior).
- ``decode(z, *, train, rngs) -> jax.Array``: the decoder's output for a code ``z``: the
  parameters of p(x | z) per data dimension (logits, means, ...), shaped
  ``[batch, *output_shape]``. What these parameters mean is the objective's business.
- ``__call__(x, *, train, rngs) -> ModelOutput``: encode, pick a code (a posterior sample
  for a VAE when ``rngs`` is given, its mean otherwise), decode.

``train`` switches dropout and batch statistics; ``rngs`` (an ``nnx.Rngs``) supplies the
randomness for dropout and posterior sampling and may be None in evaluation. A network
knows nothing of its loss: objectives (``aelab.objectives``) call these methods.
"""

from __future__ import annotations

import jax
from flax import struct


@struct.dataclass
class Encoding:
    """What an encoder says about a batch.

    Attributes:
      mean: [batch, *latent_shape]. The code of a deterministic autoencoder, or the mean of
        a Gaussian posterior q(z | x).
      log_var: [batch, *latent_shape] log-variance of q(z | x), or None for a
        deterministic code.
      extras: model-specific auxiliary outputs (for example a VQ-VAE's codebook indices),
        keyed by name. Empty for most models.
    """

    mean: jax.Array
    log_var: jax.Array | None = None
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
