"""The aelab classifier Fréchet distance: FID's formula on the penultimate features of
a small classifier that aelab trains itself (configs/mnist_classifier.py), for 28x28
grey-scale data sets. Self-contained (no downloaded network), and NOT comparable to FID
or to any number computed with another network: compare it only between models measured
with the same classifier run.
"""

from __future__ import annotations

import numpy as np

from aelab.core.options import option, options_class
from aelab.evaluation.classifier_calls import load_classifier
from aelab.evaluation.frechet import feature_frechet_distance
from aelab.evaluation.registry import Evaluator, register_evaluator


def balanced_classes(num_samples: int, num_classes: int) -> np.ndarray:
    """Class i mod num_classes for sample i: int32 [num_samples]."""
    return (np.arange(num_samples) % num_classes).astype(np.int32)


@register_evaluator("feature_distance")
@options_class
class FeatureDistanceEvaluator(Evaluator):
    """Fréchet distances between Gaussians fitted to the classifier's 128-d features of
    the real evaluation images and of (a) their reconstructions (rFD), (b) samples from
    the prior (FD; VAEs only; a conditional model samples the classes in equal numbers).
    "aelab classifier Fréchet distance, not comparable to FID".

    Metrics:
      reconstruction_fd: rFD, real evaluation images vs their reconstructions (a VAE
        decodes its posterior mean; a conditional model reads the true label).
      sample_fd: FD, real evaluation images vs `num_samples` prior samples.
      train_test_fd: the baseline, real training images vs the real evaluation images
        (as many as there are evaluation images, at most the training split): the
        value two samples of real data reach; finite-sample bias included.
      real_accuracy, reconstruction_accuracy: the classifier's accuracy on the real
        evaluation images and on their reconstructions.

    Options:
      classifier: the classifier's work directory (or export).
      max_examples: evaluation images used (None: the whole split).
      num_samples: prior samples for sample_fd.
    """

    classifier: str | None = option(
        None,
        "work directory (or export) of an aelab conv_classifier run "
        "(configs/mnist_classifier.py) whose features are compared",
    )
    max_examples: int | None = option(
        None, "the first this many evaluation examples (None: all)", minimum=2
    )
    num_samples: int = option(10_000, "prior samples for sample_fd", minimum=2)

    def __call__(self, context) -> dict[str, float]:
        classifier = load_classifier(self.classifier, field="evals.feature_distance.classifier")
        data = context.split("eval", labels=context.eval_labels(), max_examples=self.max_examples)
        train = context.split("train", max_examples=len(data))
        calls = context.model_calls
        real, real_pred = classifier.features_and_predictions(data.inputs)
        train_features, _ = classifier.features_and_predictions(train.inputs)
        reconstructions = calls.reconstruct(data.inputs, calls.label_condition(data.labels))
        rec, rec_pred = classifier.features_and_predictions(reconstructions)
        metrics = {
            "reconstruction_fd": feature_frechet_distance(real, rec),
            "train_test_fd": feature_frechet_distance(train_features, real),
        }
        if data.labels is not None:
            metrics["real_accuracy"] = float(np.mean(real_pred == data.labels))
            metrics["reconstruction_accuracy"] = float(np.mean(rec_pred == data.labels))
        if calls.is_variational:
            z = calls.sample_prior(context.key("feature_distance"), self.num_samples)
            classes = balanced_classes(self.num_samples, calls.condition_dim or 1)
            samples = calls.decode(z, calls.label_condition(classes))
            sample_features, _ = classifier.features_and_predictions(samples)
            metrics["sample_fd"] = feature_frechet_distance(real, sample_features)
        return metrics
