"""Denoising: the model's reconstruction of corrupted inputs, next to the classic
denoisers on the same images, each tuned on validation images (`classic_denoisers`).

For each corruption (the registry training uses, `aelab.data.corruptions`, with the same
names and options), the evaluation images are corrupted with a fixed seed; the model
reconstructs them, and each classic denoiser denoises them with the strength that gave
the best mean PSNR on `tune_examples` validation images corrupted the same way. All are
scored against the clean images.
"""

from __future__ import annotations

import numpy as np

from aelab.core.errors import ConfigError
from aelab.core.options import option, options_class
from aelab.data.corruptions import BatchNoise, Corruption
from aelab.evaluation.classic_denoisers import CLASSIC_DENOISERS, tune
from aelab.evaluation.image_quality import mean_finite_psnr, psnr, quality_metrics
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
    """For each corruption c: c/noisy/{psnr,ssim,mse} (the corrupted input),
    c/model/{psnr,ssim,mse} (the model's reconstruction of it), for images
    c/<denoiser>/{psnr,ssim,mse,strength} of each classic denoiser,
    c/best_classic/psnr (the best of them, by PSNR) and c/margin_db (the model's PSNR
    minus it: above 0, the model beats every classic denoiser). Plot (images):
    denoising.png, per corruption rows of clean, corrupted, model and best classic
    examples.
    """

    corruptions: dict | None = option(
        None,
        "{corruption name: its options} (aelab.data.list_corruptions()); None: the run's "
        "training corruption, or gaussian_noise std 0.3, salt_and_pepper 0.2, masking 0.5",
    )
    classic: tuple[str, ...] = option(
        tuple(CLASSIC_DENOISERS),
        "classic denoisers to compare with (images only)",
        choices=tuple(CLASSIC_DENOISERS),
    )
    tune_examples: int = option(
        200, "validation images each classic denoiser's strength is chosen on", minimum=1
    )
    max_examples: int | None = option(
        1000, "the first this many evaluation examples (None: all)", minimum=1
    )

    def corruption_list(self, training: Corruption | None = None) -> list[Corruption]:
        """The corruptions to measure, with their options."""
        if self.corruptions is None and training is not None and not training.is_identity:
            return [training]
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
        classic = self.classic if image_shape is not None else ()
        tuning = None
        if classic:
            held_out = "validation" if context.has_validation else "train"
            tuning = context.split(held_out, max_examples=self.tune_examples).inputs
        rng = context.rng("denoising")
        metrics: dict[str, float] = {}
        rows = []
        for corruption in self.corruption_list(context.spec.transform.corruption):
            name = corruption.name
            noisy = corruption(clean, BatchNoise(rng, len(clean)), scaled=scaled)
            estimates = {"noisy": noisy, "model": context.model_calls.reconstruct(noisy)}
            if classic:
                as_images = lambda x: x.reshape(len(x), *image_shape)
                tune_clean = as_images(tuning)
                tune_noisy = corruption(tune_clean, BatchNoise(rng, len(tune_clean)), scaled=scaled)
                score = lambda a, b: mean_finite_psnr(psnr(a, b, context.data_range))
                for denoiser_name in classic:
                    denoiser = CLASSIC_DENOISERS[denoiser_name]
                    strength, _ = tune(denoiser, tune_clean, tune_noisy, score)
                    metrics[f"{name}/{denoiser_name}/strength"] = float(strength)
                    estimates[denoiser_name] = denoiser(as_images(noisy), strength).reshape(
                        clean.shape
                    )
            for kind, estimate in estimates.items():
                scores = quality_metrics(
                    clean, estimate, data_range=context.data_range, image_shape=image_shape
                )
                metrics.update({f"{name}/{kind}/{k}": v for k, v in scores.items()})
            if classic:
                best = max(classic, key=lambda d: metrics[f"{name}/{d}/psnr"])
                metrics[f"{name}/best_classic/psnr"] = metrics[f"{name}/{best}/psnr"]
                metrics[f"{name}/margin_db"] = (
                    metrics[f"{name}/model/psnr"] - metrics[f"{name}/best_classic/psnr"]
                )
                rows += [clean[:8], noisy[:8], estimates["model"][:8], estimates[best][:8]]
            else:
                rows += [clean[:8], noisy[:8], estimates["model"][:8]]
        if image_shape is not None and context.is_chief:
            count = len(rows[0])
            pictures = np.concatenate([r.reshape(count, *image_shape) for r in rows])
            save_png(
                image_grid(pictures, columns=count), context.plot_path("denoising.png"), scale=2
            )
        return metrics
