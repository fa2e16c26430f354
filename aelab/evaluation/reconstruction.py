"""Reconstruction: MSE, PSNR and SSIM of decode(encode(x)) against x, per class too."""

from __future__ import annotations

from aelab.core.options import option, options_class
from aelab.evaluation.image_quality import mean_squared_error, per_class_means, quality_metrics
from aelab.evaluation.registry import Evaluator, register_evaluator


@register_evaluator("reconstruction")
@options_class
class ReconstructionEvaluator(Evaluator):
    """Reconstruction quality on the evaluation split (a VAE decodes its posterior mean;
    the reconstruction is the likelihood's mean, e.g. pixel probabilities; a conditional
    model reads each example's own label).

    Metrics: mse (mean squared error per value), psnr (dB, mean over examples, data
    range 1 for data scaled to [0, 1]), ssim (images only; see
    `aelab.evaluation.image_quality`), and mse_class_<c> per label when there are labels.

    Options:
      max_examples: the first this many examples (None: the whole split).
    """

    max_examples: int | None = option(
        None, "the first this many evaluation examples (None: all)", minimum=1
    )

    def __call__(self, context) -> dict[str, float]:
        data = context.split("eval", labels=context.eval_labels(), max_examples=self.max_examples)
        calls = context.model_calls
        reconstructions = calls.reconstruct(data.inputs, calls.label_condition(data.labels))
        metrics = quality_metrics(
            data.inputs,
            reconstructions,
            data_range=context.data_range,
            image_shape=context.display_shape if context.is_image else None,
        )
        per_example = mean_squared_error(data.inputs, reconstructions)
        for label, value in per_class_means(per_example, data.labels).items():
            metrics[f"mse_class_{label}"] = value
        return metrics
