"""Class-conditional generation: samples of a conditional model for each class, and
whether aelab's own classifier (configs/mnist_classifier.py) recognises that class."""

from __future__ import annotations

import numpy as np

from aelab.core.options import option, options_class
from aelab.evaluation.classification import per_class_accuracy
from aelab.evaluation.classifier_calls import load_classifier
from aelab.evaluation.registry import Evaluator, register_evaluator
from aelab.visualization import image_grid, save_png


@register_evaluator("conditional_generation")
@options_class
class ConditionalGenerationEvaluator(Evaluator):
    """Draws `samples_per_class` codes for each class (from the prior of a VAE; for a
    deterministic autoencoder from a Gaussian fitted to the codes of the evaluation
    split), decodes them under that class's one-hot condition (the likelihood's mean)
    and labels them with the classifier.

    Writes conditional_samples.png: one row per class, `grid_columns` samples each.

    Metrics: sample_accuracy (mean over all samples), sample_accuracy_class_<c>, and
    the baseline real_accuracy: the same classifier on the real evaluation images.

    Options:
      classifier: the classifier's work directory (or export).
      samples_per_class: samples drawn for each class.
      grid_columns: samples per row of the grid.
    """

    classifier: str | None = option(
        None, "work directory (or export) of an aelab conv_classifier run that labels samples"
    )
    samples_per_class: int = option(1000, "samples drawn for each class", minimum=1)
    grid_columns: int = option(10, "samples per class in conditional_samples.png", minimum=1)

    def __call__(self, context) -> dict[str, float]:
        calls = context.model_calls
        num_classes = calls.condition_dim
        if num_classes is None:
            raise ValueError(
                "evaluator 'conditional_generation' needs a conditional model: set "
                "config.model.conditioning='concat' or 'film' (configs/mnist_cvae.py)."
            )
        classifier = load_classifier(
            self.classifier, field="evals.conditional_generation.classifier"
        )
        if classifier.num_classes != num_classes:
            raise ValueError(
                f"The classifier at {self.classifier!r} has {classifier.num_classes} classes; "
                f"the model conditions on {num_classes} (config.model.condition_dim)."
            )
        data = context.split("eval", labels=context.eval_labels())
        labels = data.require_labels("Class-conditional generation")
        _, real_pred = classifier.features_and_predictions(data.inputs)

        n = self.samples_per_class * num_classes
        classes = np.repeat(np.arange(num_classes, dtype=np.int32), self.samples_per_class)
        if calls.is_variational:
            z = calls.sample_prior(context.key("conditional_generation"), n)
        else:
            codes = calls.codes(data.inputs, calls.label_condition(labels))
            cov = np.cov(codes, rowvar=False).reshape(codes.shape[1], codes.shape[1])
            rng = context.rng("conditional_generation")
            z = rng.multivariate_normal(codes.mean(axis=0), cov, size=n).astype(np.float32)
        samples = calls.decode(z, calls.label_condition(classes))
        _, predictions = classifier.features_and_predictions(samples)

        metrics = {
            "sample_accuracy": float(np.mean(predictions == classes)),
            "real_accuracy": float(np.mean(real_pred == labels)),
        }
        for c, value in enumerate(per_class_accuracy(predictions, classes, num_classes)):
            metrics[f"sample_accuracy_class_{c}"] = float(value)
        if context.is_chief and context.is_image:
            shape = context.display_shape
            columns = min(self.grid_columns, self.samples_per_class)
            pictures = samples.reshape(num_classes, self.samples_per_class, *shape)[:, :columns]
            grid = image_grid(pictures.reshape(-1, *shape), columns=columns)
            path = context.plot_path("conditional_samples.png")
            save_png(grid, path, scale=max(1, 56 // shape[0]))
        return metrics
