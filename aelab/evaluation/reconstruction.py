"""Reconstruction: MSE, PSNR, SSIM (and LPIPS, given its weights) of decode(encode(x))
against x, per class too."""

from __future__ import annotations

import jax
import numpy as np

from aelab.core.options import option, options_class
from aelab.evaluation.image_quality import mean_squared_error, per_class_means, quality_metrics
from aelab.evaluation.registry import Evaluator, register_evaluator
from aelab.objectives.perceptual import load_lpips

_LPIPS_BATCH = 500  # examples per LPIPS call: the VGG16 features of 28x28 images


@register_evaluator("reconstruction")
@options_class
class ReconstructionEvaluator(Evaluator):
    """Reconstruction quality on the evaluation split (a VAE decodes its posterior mean;
    the reconstruction is the likelihood's mean, e.g. pixel probabilities; a conditional
    model reads each example's own label).

    Metrics: mse (mean squared error per value), psnr (dB, mean over examples, data
    range 1 for data scaled to [0, 1]), ssim (images only; see
    `aelab.evaluation.image_quality`), lpips (images only, when `lpips_weights` names a
    weights file: the mean LPIPS distance, `aelab.objectives.perceptual`, of the images
    scaled to [0, 1] by the data range), and mse_class_<c> per label when there are
    labels.
    """

    max_examples: int | None = option(
        None, "the first this many evaluation examples (None: all)", minimum=1
    )
    lpips_weights: str | None = option(
        None,
        "path of an LPIPS weights file (.safetensors or .npz, docs/perceptual.md): also "
        "report the mean LPIPS distance (None: not computed)",
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
        if self.lpips_weights is not None and context.is_image:
            metrics["lpips"] = mean_lpips(
                load_lpips(self.lpips_weights),
                data.inputs.reshape(-1, *context.display_shape) / context.data_range,
                reconstructions.reshape(-1, *context.display_shape) / context.data_range,
            )
        per_example = mean_squared_error(data.inputs, reconstructions)
        for label, value in per_class_means(per_example, data.labels).items():
            metrics[f"mse_class_{label}"] = value
        return metrics


def mean_lpips(lpips, a: np.ndarray, b: np.ndarray) -> float:
    """The mean LPIPS distance of image pairs a, b [n, H, W, C] in [0, 1], in batches."""
    distance = jax.jit(lpips)
    values = [
        np.asarray(distance(a[i : i + _LPIPS_BATCH], b[i : i + _LPIPS_BATCH]), np.float64)
        for i in range(0, len(a), _LPIPS_BATCH)
    ]
    return float(np.mean(np.concatenate(values)))
