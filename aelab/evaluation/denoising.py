"""Denoising: quality of the corrupted input and of the model's reconstruction of it,
both against the clean input, for each corruption type (`aelab.data.corruptions`)."""

from __future__ import annotations

import numpy as np

from aelab.core.errors import ConfigError
from aelab.core.options import option, options_class
from aelab.data.corruptions import BatchNoise, Corruption
from aelab.evaluation.image_quality import quality_metrics
from aelab.evaluation.registry import Evaluator, register_evaluator
from aelab.visualization import image_grid, save_png

DEFAULT_CORRUPTIONS = {
    "gaussian_noise": {"std": 0.3},
    "salt_and_pepper": {"amount": 0.2},
    "masking": {"rate": 0.5},
}


@register_evaluator("denoising")
@options_class
class DenoisingEvaluator(Evaluator):
    """For each corruption c: <c>/psnr_noisy, <c>/psnr_denoised, <c>/mse_noisy,
    <c>/mse_denoised (and ssim for images), with denoised = reconstruct(corrupted) and
    both compared with the clean input. Plot (images): denoising.png, per corruption
    rows of clean, corrupted and denoised examples.

    The corruptions are those training uses (`aelab.data.corruptions`), with the same
    names and options; Gaussian noise is clipped only for data scaled to [0, 1].
    """

    corruptions: dict | None = option(
        None,
        "{corruption name: its options} (aelab.data.list_corruptions()); None: "
        "gaussian_noise std 0.3, salt_and_pepper 0.2, masking 0.5",
    )
    max_examples: int | None = option(
        None, "the first this many evaluation examples (None: all)", minimum=1
    )

    def corruption_list(self) -> list[Corruption]:
        """The corruptions to measure, with their options."""
        specs = DEFAULT_CORRUPTIONS if self.corruptions is None else self.corruptions
        return [
            Corruption.from_section(
                {"name": name, **dict(options or {})}, path=f"evals.denoising.corruptions.{name}"
            )
            for name, options in specs.items()
        ]

    def check(self):
        try:
            self.corruption_list()
        except (ConfigError, KeyError) as e:
            yield "corruptions", str(e).rstrip(".")

    def __call__(self, context) -> dict[str, float]:
        data = context.split("eval", labels=context.eval_labels(), max_examples=self.max_examples)
        clean = data.inputs
        scaled = context.spec.transform.value_max is not None
        image_shape = context.display_shape if context.is_image else None
        rng = context.rng("denoising")
        metrics: dict[str, float] = {}
        rows = []
        for corruption in self.corruption_list():
            name = corruption.name
            noisy = corruption(clean, BatchNoise(rng, len(clean)), scaled=scaled)
            denoised = context.model_calls.reconstruct(noisy)
            for kind, estimate in (("noisy", noisy), ("denoised", denoised)):
                scores = quality_metrics(
                    clean, estimate, data_range=context.data_range, image_shape=image_shape
                )
                metrics.update({f"{name}/{k}_{kind}": v for k, v in scores.items()})
            rows += [clean[:8], noisy[:8], denoised[:8]]
        if image_shape is not None and context.is_chief:
            count = len(rows[0])
            pictures = np.concatenate([r.reshape(count, *image_shape) for r in rows])
            save_png(
                image_grid(pictures, columns=count), context.plot_path("denoising.png"), scale=2
            )
        return metrics
