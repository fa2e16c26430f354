"""aelab's own trained classifier (`conv_classifier`, configs/mnist_classifier.py) as a
measuring instrument: its penultimate features and its predicted classes."""

from __future__ import annotations

import jax
import numpy as np

from aelab.core.contract import is_classifier
from aelab.evaluation.exported import load_trained
from aelab.evaluation.loading import TrainedRun
from aelab.evaluation.model_calls import map_in_batches
from aelab.training.state import merge_model

TRAIN_COMMAND = (
    "python experiments/train.py --config=configs/mnist_classifier.py:mnist "
    "--workdir=runs/mnist_classifier"
)


def load_classifier(path: str | None, *, field: str) -> ClassifierCalls:
    """The classifier trained in work directory (or export) `path`, named by the config
    field `field`; one clear error when it is unset, missing or not a classifier."""
    if not path:
        raise ValueError(
            f"{field} is not set: it names a trained aelab classifier; train one with "
            f"`{TRAIN_COMMAND}` (:fashion_mnist for Fashion-MNIST) and set "
            f"{field}=runs/mnist_classifier (on the command line: "
            f"--option={field.removeprefix('evals.')}=runs/mnist_classifier)."
        )
    try:
        run = load_trained(path)
    except FileNotFoundError as e:
        raise ValueError(
            f"{field}={path!r} is not a trained run: {e} Train one with `{TRAIN_COMMAND}`."
        ) from None
    if not is_classifier(run.model()):
        raise ValueError(
            f"{field}={path!r} is a {run.config.model.name!r} run, not a classifier; give "
            f"a conv_classifier run (`{TRAIN_COMMAND}`)."
        )
    return ClassifierCalls(run)


class ClassifierCalls:
    """Batched, jitted calls of a trained classifier (evaluation mode).

    Args:
      run: a trained `Classifier` run (`aelab.core.contract`).
      batch_size: examples per jitted call.
    """

    def __init__(self, run: TrainedRun, *, batch_size: int = 500):
        model = run.model()
        self.source = run.source
        self.num_classes = model.num_classes
        self.input_shape = tuple(run.spec.example_shape)
        self.batch_size = batch_size
        graphdef, params, state = run.graphdef, run.params, run.model_state

        @jax.jit
        def features_and_logits(x):
            classifier = merge_model(graphdef, params, state)
            features = classifier.encode(x, train=False, rngs=None).mean
            return features, classifier.decode(features, train=False, rngs=None)

        self._features_and_logits = features_and_logits

    def features_and_predictions(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(features [n, feature_dim], predicted classes int [n]) of images [n, ...]
        (reshaped to the classifier's input shape, e.g. flattened inputs of a dense
        model)."""
        images = np.asarray(images, np.float32).reshape(len(images), *self.input_shape)
        features, logits = map_in_batches(self._features_and_logits, images, self.batch_size)
        return features, np.argmax(logits, axis=-1)
