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
    model_sse and pca_sse (the squared error summed over an example's values, averaged
    over examples: the figure Hinton & Salakhutdinov 2006 report), mse_ratio (model /
    PCA: below 1, the model beats PCA), code_size, pca_explained_variance.
    Plots (images): pca_comparison.png, rows of inputs, model reconstructions and PCA
    reconstructions; with labels, pca_scatter.png: the codes (their first two principal
    components, for a code of more than two values) next to the inputs' first two
    principal components, coloured by label.
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
        values = int(np.prod(test.inputs.shape[1:]))
        metrics["model_sse"] = metrics["model_mse"] * values
        metrics["pca_sse"] = metrics["pca_mse"] * values
        metrics["mse_ratio"] = metrics["model_mse"] / max(metrics["pca_mse"], 1e-12)
        if test.labels is not None and context.is_chief:
            codes = context.model_calls.codes(test.inputs)
            _scatter_pair(
                codes,
                train.inputs,
                test.inputs,
                test.labels,
                context.plot_path("pca_scatter.png"),
                seed=context.seed,
            )
        if image_shape is not None and context.is_chief:
            count = min(10, len(test.inputs))
            rows = [
                a[:count].reshape(count, *image_shape)
                for a in (test.inputs, model_images, pca_images)
            ]
            grid = image_grid(np.concatenate(rows), columns=count)
            save_png(grid, context.plot_path("pca_comparison.png"), scale=2)
        return metrics


def _first_two_components(fit: np.ndarray, x: np.ndarray, seed: int) -> np.ndarray:
    flat_fit, flat = fit.reshape(len(fit), -1), x.reshape(len(x), -1)
    if flat.shape[1] == 2:
        return flat
    return PCA(n_components=2, random_state=seed).fit(flat_fit).transform(flat)


def _scatter_pair(codes, train, test, labels, path: str, *, seed: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    panels = (
        (
            "the model's code" + (" (2-d)" if codes.shape[1] == 2 else ": first two PCs"),
            _first_two_components(codes, codes, seed),
        ),
        ("PCA of the inputs: first two components", _first_two_components(train, test, seed)),
    )
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.2))
    for ax, (title, points) in zip(axes, panels, strict=True):
        shown = ax.scatter(points[:, 0], points[:, 1], c=labels, s=2, cmap="tab10")
        ax.set_title(title, fontsize=9)
    axes[1].legend(*shown.legend_elements(), fontsize=6, markerscale=0.8, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
