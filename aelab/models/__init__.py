"""The model zoo: every model is built by name from `config.model` through one registry.

>>> import aelab.models as models
>>> models.list_models()
['conv_ae', 'conv_vae', 'conv_vqvae', 'dense_2layer_vae', 'dense_ae', ...]
>>> model = models.build_model(config.model, input_shape=(28, 28, 1),
...                            output_shape=(28, 28, 1), rngs=nnx.Rngs(0))

Every model follows the contract of `aelab.core.contract` (`encode`, `decode`,
`reconstruct`, `__call__`; VAEs also the latent-variable hooks) and declares its options
(a `ModelOptions` subclass) when it registers. Every module of this package is imported
here, so a new model is one new module; see docs/adding_a_model.md.
"""

from __future__ import annotations

from aelab.core.contract import Encoding, ModelOutput
from aelab.core.discovery import import_submodules
from aelab.models.autoencoder import Autoencoder, GaussianVAE
from aelab.models.ensemble import Ensemble, is_ensemble
from aelab.models.layers import Decoder
from aelab.models.registry import (
    MODEL_SECTION,
    MODELS,
    ModelOptions,
    build_model,
    model_options,
    register_model,
    tiny_objective_config,
    tiny_setup,
)

import_submodules(__name__, __path__)


def list_models() -> list[str]:
    """Names of all registered models, sorted."""
    return MODELS.names()


__all__ = [
    "MODELS",
    "MODEL_SECTION",
    "Autoencoder",
    "Decoder",
    "Encoding",
    "Ensemble",
    "GaussianVAE",
    "ModelOptions",
    "ModelOutput",
    "build_model",
    "is_ensemble",
    "list_models",
    "model_options",
    "register_model",
    "tiny_objective_config",
    "tiny_setup",
]
