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
from aelab.evaluation.compared_images import compared_images
from aelab.evaluation.frechet import feature_frechet_distance
from aelab.evaluation.registry import Evaluator, register_evaluator


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
        images = compared_images(
            context,
            max_examples=self.max_examples,
            num_samples=self.num_samples,
            sample_key="feature_distance",
        )
        labels = images.real.labels
        real, real_pred = classifier.features_and_predictions(images.real.inputs)
        train_features, _ = classifier.features_and_predictions(images.train)
        rec, rec_pred = classifier.features_and_predictions(images.reconstructions)
        metrics = {
            "reconstruction_fd": feature_frechet_distance(real, rec),
            "train_test_fd": feature_frechet_distance(train_features, real),
        }
        if labels is not None:
            metrics["real_accuracy"] = float(np.mean(real_pred == labels))
            metrics["reconstruction_accuracy"] = float(np.mean(rec_pred == labels))
        if images.samples is not None:
            sample_features, _ = classifier.features_and_predictions(images.samples)
            metrics["sample_fd"] = feature_frechet_distance(real, sample_features)
        return metrics
