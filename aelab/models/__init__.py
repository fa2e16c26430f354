"""The model zoo: every model is built by name from `config.model` through one registry.

>>> import aelab.models as models
>>> models.list_models()
['conv_ae', 'conv_vae', 'conv_vqvae', 'dense_2layer_vae', 'dense_ae', ...]
>>> model = models.build_model(config.model, input_shape=(28, 28, 1),
...                            output_shape=(28, 28, 1), rngs=nnx.Rngs(0))

Every model follows the interface in `aelab.models.interface` (`encode`, `decode`,
`__call__`). To add one, see docs/adding_a_model.md.
"""

from __future__ import annotations

from collections.abc import Sequence

from flax import nnx

from aelab.models.autoencoder import Autoencoder, GaussianVAE
from aelab.models.interface import Encoding, ModelOutput
from aelab.models.registry import MODELS, register_model, tiny_objective_config, tiny_setup

# Importing these modules registers their models.
from aelab.models import families as _families  # noqa: F401  isort: skip
from aelab.models import two_layer_vae as _two_layer_vae  # noqa: F401  isort: skip


def list_models() -> list[str]:
    """Names of all registered models, sorted."""
    return MODELS.names()


def build_model(
    config,
    input_shape: Sequence[int],
    output_shape: Sequence[int] | None = None,
    *,
    rngs: nnx.Rngs,
) -> nnx.Module:
    """Builds the model named `config.name`.

    Args:
      config: the `config.model` ConfigDict (name plus the family's fields).
      input_shape: shape of one example, e.g. (28, 28, 1).
      output_shape: shape of the decoder output for one example; defaults to
        `input_shape` (one distribution parameter per data dimension).
      rngs: initialisation randomness.
    """
    builder = MODELS.get(config.name)
    output_shape = tuple(input_shape) if output_shape is None else tuple(output_shape)
    return builder(config, tuple(input_shape), output_shape, rngs)


__all__ = [
    "MODELS",
    "Autoencoder",
    "Encoding",
    "GaussianVAE",
    "ModelOutput",
    "build_model",
    "list_models",
    "register_model",
    "tiny_objective_config",
    "tiny_setup",
]
