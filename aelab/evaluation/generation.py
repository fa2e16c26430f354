"""Generation and latent space, as pictures.

- samples.png: decoded codes drawn from the prior (a VAE) or, for a deterministic
  autoencoder, from a Gaussian fitted to the codes of the evaluation split;
- interpolations.png: each row decodes codes on the straight line between the codes of
  two evaluation examples (ends included);
- traversals.png: each row moves one code dimension (those whose codes vary most over
  the split) from -range to +range around an example's code, the others fixed; range is
  3 prior standard deviations for a VAE, 3 standard deviations of that dimension's codes
  otherwise;
- latent_scatter.png: the codes of the evaluation split in 2-D (the codes themselves
  for a 2-D code, else their first two principal components), coloured by label.

Image data gives image grids; time series give line plots (samples and scatter only).

A conditional model (`config.model.conditioning`) is given one-hot labels: the codes
of the split under each example's own label; samples.png under the classes in turn
(sample i under class i mod K, so each row of 8 cycles through the classes); each
interpolation under its first example's label; the traversals under the label of the
example they start from.
"""

from __future__ import annotations

import numpy as np

from aelab.core.options import option, options_class
from aelab.evaluation.compared_images import balanced_classes
from aelab.evaluation.registry import Evaluator, register_evaluator
from aelab.visualization import image_grid, save_png, series_panel


@register_evaluator("generation")
@options_class
class GenerationEvaluator(Evaluator):
    """Writes the pictures in the module docstring; metrics: num_plots and
    code_std_mean (the mean over code dimensions of the codes' standard deviation).

    Options:
      num_samples: prior samples in samples.png.
      num_interpolations, interpolation_steps: rows and columns of interpolations.png.
      max_traversal_dims, traversal_steps: rows and columns of traversals.png.
      scatter_examples: examples in latent_scatter.png.
    """

    num_samples: int = option(64, "prior samples in samples.png", minimum=1)
    num_interpolations: int = option(8, "rows of interpolations.png", minimum=1)
    interpolation_steps: int = option(10, "columns of interpolations.png", minimum=2)
    max_traversal_dims: int = option(10, "rows of traversals.png", minimum=1)
    traversal_steps: int = option(9, "columns of traversals.png", minimum=2)
    scatter_examples: int = option(5000, "examples in latent_scatter.png", minimum=1)

    def __call__(self, context) -> dict[str, float]:
        data = context.split("eval", labels=context.eval_labels())
        calls = context.model_calls
        count = min(len(data), self.scatter_examples)
        # [count, condition_dim] one-hot labels of the examples (None: unconditional).
        given = calls.label_condition(None if data.labels is None else data.labels[:count])
        conditional = given is not None

        def under(rows: np.ndarray | None, how_many: int):
            """The conditions of `how_many` decoded codes: each of `rows` (example
            indices) repeated how_many // len(rows) times; None when unconditional."""
            if not conditional:
                return None
            return np.repeat(given[rows], how_many // len(rows), axis=0)

        means, _ = calls.encode(data.inputs[:count], given)
        latent_shape = means.shape[1:]
        codes = means.reshape(count, -1)
        code_mean, code_std = codes.mean(axis=0), codes.std(axis=0)
        rng = context.rng("generation")
        written = 0

        if calls.is_variational:
            samples = calls.sample_prior(context.key("generation"), self.num_samples)
        else:
            cov = np.cov(codes, rowvar=False).reshape(codes.shape[1], codes.shape[1])
            samples = rng.multivariate_normal(code_mean, cov, size=self.num_samples)
        sample_conditions = None
        if conditional:
            sample_conditions = calls.label_condition(
                balanced_classes(self.num_samples, calls.condition_dim)
            )
        decoded = calls.decode(
            samples.reshape(-1, *latent_shape).astype(np.float32), sample_conditions
        )
        written += self._save(context, "samples.png", decoded, columns=8)

        if context.is_image and count >= 2:
            pairs = rng.choice(count, size=(self.num_interpolations, 2))
            t = np.linspace(0.0, 1.0, self.interpolation_steps)[None, :, None]
            line = codes[pairs[:, :1]] * (1 - t) + codes[pairs[:, 1:]] * t  # [rows, steps, d]
            decoded = calls.decode(
                line.reshape(-1, *latent_shape).astype(np.float32),
                under(pairs[:, 0], len(pairs) * self.interpolation_steps),
            )
            written += self._save(
                context, "interpolations.png", decoded, columns=self.interpolation_steps
            )

            dims = np.argsort(-code_std)[: self.max_traversal_dims]
            spread = 3.0 * (np.ones_like(code_std) if calls.is_variational else code_std)
            offsets = np.linspace(-1.0, 1.0, self.traversal_steps)
            rows = np.repeat(codes[:1], len(dims) * self.traversal_steps, axis=0)
            rows = rows.reshape(len(dims), self.traversal_steps, -1)
            for row, dim in enumerate(dims):
                rows[row, :, dim] = codes[0, dim] + offsets * spread[dim]
            decoded = calls.decode(
                rows.reshape(-1, *latent_shape).astype(np.float32),
                under(np.zeros(1, int), len(dims) * self.traversal_steps),
            )
            written += self._save(context, "traversals.png", decoded, columns=self.traversal_steps)

        if data.labels is not None and context.is_chief and codes.shape[1] >= 2:
            _scatter(codes, data.labels[:count], context.plot_path("latent_scatter.png"))
            written += 1
        return {"num_plots": float(written), "code_std_mean": float(code_std.mean())}

    @staticmethod
    def _save(context, filename: str, decoded: np.ndarray, columns: int) -> int:
        if not context.is_chief:
            return 0
        shape = context.display_shape
        pictures = decoded.reshape(len(decoded), *shape)
        if context.is_image:
            grid = image_grid(pictures, columns=columns)
            save_png(grid, context.plot_path(filename), scale=max(1, 56 // shape[0]))
        else:
            series_panel([("sample", pictures)], context.plot_path(filename))
        return 1


def _scatter(codes: np.ndarray, labels: np.ndarray, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    if codes.shape[1] == 2:
        points, title = codes, "code"
    else:
        centred = codes - codes.mean(axis=0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        points, title = centred @ vt[:2].T, "first two principal components of the code"
    fig, ax = plt.subplots(figsize=(5, 4.5))
    scatter = ax.scatter(points[:, 0], points[:, 1], c=labels, s=3, cmap="tab10")
    ax.legend(*scatter.legend_elements(), fontsize=6, loc="best", markerscale=0.8)
    ax.set_title(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
