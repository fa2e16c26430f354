"""A small convolutional image classifier, trained by aelab's own loop (the
"classification" objective) to measure other models: the feature distance and the
class-conditional accuracy of samples (`aelab.evaluation.feature_distance`).

It fits the model contract as a `Classifier` (`aelab.core.contract`): its code is the
penultimate feature vector and its decoder is the linear classification head, so
``encode(x).mean`` is [batch, latent_dim] features and ``decode(features)`` the class
logits [batch, num_classes]. It is not an autoencoder: it reconstructs nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import jax
from flax import nnx

from aelab.core.contract import Encoding, ModelOutput
from aelab.core.options import option, options_class
from aelab.models.conv import downsampled_size, image_shape_of
from aelab.models.convolutions import conv_layer
from aelab.models.layers import Dropout
from aelab.models.registry import ModelOptions, register_model


@options_class
class ClassifierOptions(ModelOptions):
    """`config.model` of conv_classifier; `latent_dim` is the size of its feature layer."""

    channels: tuple[int, ...] = option(
        (32, 64), "channels of each stride-2 3x3 convolution stage", minimum=1, min_length=1
    )
    dropout_rate: float = option(
        0.0, "dropout on the feature layer in training (0: none)", minimum=0.0, below=1.0
    )


class ConvClassifier(nnx.Module):
    """Stride-2 3x3 conv stages (ReLU), a dense ReLU feature layer, a linear head.

    [batch, H, W, C] -> features [batch, feature_dim] -> logits [batch, num_classes].
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        num_classes: int,
        *,
        options: ClassifierOptions,
        rngs: nnx.Rngs,
    ):
        height, width, in_channels = image_shape_of(input_shape)
        channels = options.channels
        self.convs = nnx.List(
            [
                conv_layer(a, b, (3, 3), strides=2, padding="SAME", rngs=rngs)
                for a, b in itertools.pairwise([in_channels, *channels])
            ]
        )
        h, w = downsampled_size(height, len(channels)), downsampled_size(width, len(channels))
        self.features = nnx.Linear(h * w * channels[-1], options.latent_dim, rngs=rngs)
        self.dropout = Dropout(options.dropout_rate) if options.dropout_rate > 0 else None
        self.head = nnx.Linear(options.latent_dim, num_classes, rngs=rngs)
        self.latent_dim = options.latent_dim
        self.feature_dim = options.latent_dim
        self.num_classes = num_classes

    def encode(
        self, x: jax.Array, *, train: bool = False, rngs: nnx.Rngs | None = None
    ) -> Encoding:
        """Penultimate features: x [batch, H, W, C] -> Encoding(mean=[batch, feature_dim])."""
        for conv in self.convs:
            x = jax.nn.relu(conv(x))
        return Encoding(mean=jax.nn.relu(self.features(x.reshape((*x.shape[:-3], -1)))))

    def decode(
        self, z: jax.Array, *, train: bool = False, rngs: nnx.Rngs | None = None
    ) -> jax.Array:
        """Class logits of features z [batch, feature_dim]: [batch, num_classes]."""
        if self.dropout is not None:
            z = self.dropout(z, deterministic=not train, rngs=rngs)
        return self.head(z)

    def reconstruct(
        self, z: jax.Array, x: jax.Array, *, train: bool, rngs: nnx.Rngs | None
    ) -> jax.Array:
        """The logits of features z (x is not read): [batch, num_classes]."""
        return self.decode(z, train=train, rngs=rngs)

    def __call__(
        self, x: jax.Array, *, train: bool = False, rngs: nnx.Rngs | None = None
    ) -> ModelOutput:
        encoding = self.encode(x, train=train, rngs=rngs)
        logits = self.decode(encoding.mean, train=train, rngs=rngs)
        return ModelOutput(encoding=encoding, code=encoding.mean, decoded=logits)


@register_model(
    "conv_classifier",
    options=ClassifierOptions,
    tiny_fields={"channels": (4, 8), "latent_dim": 8},
    objective={"name": "classification", "num_classes": 3},
)
def build_conv_classifier(options, input_shape, output_shape, rngs):
    """The classifier of `options`; `output_shape` is (num_classes,) (the "classification"
    objective's `decoder_output_shape`)."""
    if len(output_shape) != 1:
        raise ValueError(
            f"conv_classifier outputs class logits; it needs an output shape (num_classes,), "
            f"got {tuple(output_shape)}. Use config.objective.name='classification'."
        )
    return ConvClassifier(input_shape, output_shape[0], options=options, rngs=rngs)
