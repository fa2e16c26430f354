"""Classification: a trained classifier's accuracy on the evaluation split (how
configs/mnist_classifier.py reports its test accuracy)."""

from __future__ import annotations

import numpy as np

from aelab.core.contract import is_classifier
from aelab.core.options import option, options_class
from aelab.evaluation.classifier_calls import ClassifierCalls
from aelab.evaluation.registry import Evaluator, register_evaluator


def per_class_accuracy(predictions: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Accuracy of predictions [n] against labels [n] per class: [num_classes] (NaN for
    a class with no examples)."""
    accuracy = np.full(num_classes, np.nan)
    for c in range(num_classes):
        chosen = labels == c
        if chosen.any():
            accuracy[c] = float(np.mean(predictions[chosen] == c))
    return accuracy


@register_evaluator("classification")
@options_class
class ClassificationEvaluator(Evaluator):
    """The accuracy of a classifier run (`conv_classifier`) on the evaluation split.

    Metrics: accuracy, error_rate, accuracy_class_<c> per class.

    Options:
      max_examples: the first this many examples (None: the whole split).
    """

    max_examples: int | None = option(
        None, "the first this many evaluation examples (None: all)", minimum=1
    )

    def __call__(self, context) -> dict[str, float]:
        if not is_classifier(context.model_calls.model()):
            raise ValueError(
                f"evaluator 'classification' measures a classifier; this run's model is "
                f"{context.config.model.name!r}. Use feature_distance or "
                "conditional_generation to measure a generative model with one."
            )
        data = context.split("eval", labels=context.eval_labels(), max_examples=self.max_examples)
        labels = data.require_labels("The classification evaluator")
        classifier = ClassifierCalls(context.run)
        _, predictions = classifier.features_and_predictions(data.inputs)
        accuracy = float(np.mean(predictions == labels))
        metrics = {"accuracy": accuracy, "error_rate": 1.0 - accuracy}
        per_class = per_class_accuracy(predictions, labels, classifier.num_classes)
        metrics.update(
            {f"accuracy_class_{c}": float(a) for c, a in enumerate(per_class) if np.isfinite(a)}
        )
        return metrics
