"""PCA baseline: a linear code of the same size as the model's, error side by side."""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA

from aelab.core.options import option, options_class
from aelab.evaluation.image_quality import quality_metrics
from aelab.evaluation.registry import Evaluator, register_evaluator
from aelab.visualization import image_grid, save_png


def pca_reconstruction(
    train: np.ndarray, test: np.ndarray, num_components: int, *, seed: int = 0
) -> tuple[np.ndarray, float]:
    """Fits PCA on `train` [m, ...] and reconstructs `test` [n, ...] from its first
    `num_components` components. Returns (reconstructions [n, ...], the fraction of the
    training variance the components explain)."""
    flat_train = train.reshape(len(train), -1).astype(np.float64)
    max_components = min(flat_train.shape)
    if not 1 <= num_components <= max_components:
        raise ValueError(
            f"PCA with {num_components} components needs at least that many training "
            f"examples and dimensions; got {flat_train.shape}."
        )
    pca = PCA(n_components=num_components, random_state=seed).fit(flat_train)
    codes = pca.transform(test.reshape(len(test), -1).astype(np.float64))
    reconstructions = pca.inverse_transform(codes).reshape(test.shape)
    return reconstructions.astype(np.float32), float(np.sum(pca.explained_variance_ratio_))


@register_evaluator("pca")
@options_class
class PcaBaselineEvaluator(Evaluator):
    """The model's reconstruction error next to PCA's with as many components as the
    model's code has values, fitted on training examples.

    Metrics: model_mse, model_psnr (, model_ssim), pca_mse, pca_psnr (, pca_ssim),
    mse_ratio (model / PCA: below 1, the model beats PCA), code_size,
    pca_explained_variance. Plot (images): pca_comparison.png, rows of inputs, model
    reconstructions and PCA reconstructions.

    Options:
      fit_examples: training examples PCA is fitted on.
      max_examples: test examples (None: the whole split).
    """

    fit_examples: int = option(20_000, "training examples PCA is fitted on", minimum=1)
    max_examples: int | None = option(None, "test examples (None: the whole split)", minimum=1)

    def __call__(self, context) -> dict[str, float]:
        test = context.split("eval", labels=context.eval_labels(), max_examples=self.max_examples)
        train = context.split(
            "train", labels=context.train_labels(), max_examples=self.fit_examples
        )
        code_size = context.model_calls.codes(test.inputs[:1]).shape[1]
        pca_images, explained = pca_reconstruction(
            train.inputs, test.inputs, code_size, seed=context.seed
        )
        model_images = context.model_calls.reconstruct(test.inputs)
        image_shape = context.display_shape if context.is_image else None
        metrics = {"code_size": float(code_size), "pca_explained_variance": explained}
        for name, estimate in (("model", model_images), ("pca", pca_images)):
            scores = quality_metrics(
                test.inputs, estimate, data_range=context.data_range, image_shape=image_shape
            )
            metrics.update({f"{name}_{k}": v for k, v in scores.items()})
        metrics["mse_ratio"] = metrics["model_mse"] / max(metrics["pca_mse"], 1e-12)
        if image_shape is not None and context.is_chief:
            count = min(10, len(test.inputs))
            rows = [
                a[:count].reshape(count, *image_shape)
                for a in (test.inputs, model_images, pca_images)
            ]
            grid = image_grid(np.concatenate(rows), columns=count)
            save_png(grid, context.plot_path("pca_comparison.png"), scale=2)
        return metrics
