"""Rate-distortion: a trained compressive model as a real codec (files written and
decoded), next to JPEG, WebP, JPEG XL and AVIF on the same test images.

The model's rate is measured on bytes: the evaluation images compressed into one file
(its small header shared; `bits_per_image`), and each image compressed into a file of
its own (`bits_per_image_single`, headers included). Quality is measured on the decoded
images, which are checked to equal the model's quantized reconstruction exactly
(`roundtrip_exact`). The classic codecs are run at their quality ladders on the same
images, each counted per image (headers included) and with the images tiled into one
picture (headers amortised, the classic codecs' best case).

One run is one point of the model's rate-distortion curve; `rd_report` joins the points
of a lambda ladder into curves, a plot and Bjøntegaard delta rates. Here each codec's
rate at the model's PSNR (interpolated in log rate along its curve) gives the saving of
this one point: `saving_vs_<codec>_tiled` = 100 (model bits / codec bits - 1) percent
(negative: fewer bits than the codec at equal PSNR; NaN when the model's PSNR is outside
the codec's curve).

Writes rate_distortion.json (every point, for `rd_report`) next to the other outputs.
"""

from __future__ import annotations

import json
import os
import time

import numpy as np

from aelab.codec import LearnedCodec
from aelab.codec.image_files import to_uint8
from aelab.core.atomic_files import write_text_atomically
from aelab.core.options import option, options_class
from aelab.evaluation.classic_codecs import CLASSIC_CODECS, rd_curve
from aelab.evaluation.image_quality import eight_bit_quality
from aelab.evaluation.registry import Evaluator, register_evaluator

RESULT_FILE = "rate_distortion.json"


def codec_for_run(run, workdir: str | None = None) -> LearnedCodec:
    """The `LearnedCodec` of a trained run (`aelab.evaluation.loading.TrainedRun`), its
    coder tables stored under <workdir>/codec/.

    Raises:
      ValueError: the run's data are not images scaled to [0, 1], or its model is not a
        compressive model.
    """
    transform = run.spec.transform
    shape = tuple(run.spec.example_shape)
    if transform.value_max is None or transform.binarize != "none" or len(shape) != 3:
        raise ValueError(
            "The learned codec codes 8-bit images scaled to [0, 1] [height, width, channels]; "
            "this run was trained on other data (set config.data.scale=True, "
            "binarize='none', flatten=False)."
        )
    workdir = workdir or run.workdir
    if workdir is None:
        raise ValueError("A run held in memory needs a workdir for its coder tables.")
    tables = os.path.join(workdir, "codec", f"tables_step_{run.step}.npz")
    return LearnedCodec(run.graphdef, run.params, run.model_state, shape, tables)


def rate_at_quality(curve: list[dict], target_psnr: float) -> float:
    """Bits per image of a codec's curve at `target_psnr`, interpolated linearly in log
    rate between its two neighbouring points; NaN outside the curve."""
    points = sorted((p["psnr"], p["bits_per_image"]) for p in curve)
    qualities = np.array([q for q, _ in points])
    log_rates = np.log([r for _, r in points])
    if not qualities[0] <= target_psnr <= qualities[-1]:
        return float("nan")
    # A curve need not be monotone at its ends; interpolate on its running maximum.
    return float(np.exp(np.interp(target_psnr, np.maximum.accumulate(qualities), log_rates)))


@register_evaluator("rate_distortion")
@options_class
class RateDistortionEvaluator(Evaluator):
    """bits_per_image (one file of all images), bits_per_image_single (one file each),
    bpp, estimated_bits (the entropy model's -log2 P, what an ideal coder would spend),
    psnr, ms_ssim, roundtrip_exact, compress / decompress images per second; per classic
    codec <codec>_tiled_bits_at_psnr and saving_vs_<codec>_tiled (percent; and the same
    for _single files), and best_classic_tiled_saving (against the codec that needs the
    fewest bits). Writes rate_distortion.json with every curve.
    """

    max_examples: int | None = option(
        1000, "the first this many evaluation images (None: all)", minimum=1
    )
    codecs: tuple[str, ...] = option(
        tuple(CLASSIC_CODECS.names()),
        "classic codecs to compare with",
        choices=tuple(CLASSIC_CODECS.names()),
    )
    qualities: int | None = option(
        None,
        "use this many settings spread over each codec's quality ladder (None: all)",
        minimum=2,
    )

    def _ladder(self, codec: str) -> tuple:
        ladder = tuple(CLASSIC_CODECS.get(codec).default_qualities)
        if self.qualities is None or self.qualities >= len(ladder):
            return ladder
        picks = np.linspace(0, len(ladder) - 1, self.qualities).round().astype(int)
        return tuple(ladder[i] for i in sorted(set(picks)))

    def __call__(self, context) -> dict[str, float]:
        data = context.split("eval", labels=context.eval_labels(), max_examples=self.max_examples)
        images = to_uint8(data.inputs)
        codec = codec_for_run(context.run, context.run.workdir or context.output_dir)

        start = time.perf_counter()
        stream = codec.compress(images)
        compress_seconds = time.perf_counter() - start
        start = time.perf_counter()
        decoded = codec.decompress(stream)
        decompress_seconds = time.perf_counter() - start
        single = [len(one) for one in codec.compress_each(images)]
        pixels = images.shape[1] * images.shape[2]

        model = {
            "bits_per_image": 8.0 * len(stream) / len(images),
            "bits_per_image_single": 8.0 * float(np.mean(single)),
            **eight_bit_quality(images, decoded),
        }
        model["bpp"] = model["bits_per_image"] / pixels
        metrics = dict(model)
        metrics["estimated_bits"] = float(np.mean(context.model_calls.rate_bits(data.inputs)))
        metrics["roundtrip_exact"] = float(np.array_equal(decoded, codec.reconstruct(images)))
        metrics["compress_images_per_sec"] = len(images) / compress_seconds
        metrics["decompress_images_per_sec"] = len(images) / decompress_seconds

        classic = {}
        for name in self.codecs:
            ladder = self._ladder(name)
            curves = {
                "tiled": rd_curve(images, name, ladder, tiled=True),
                "single": rd_curve(images, name, ladder, tiled=False),
            }
            classic[name] = curves
            for counting, curve in curves.items():
                bits = rate_at_quality(curve, model["psnr"])
                ours = model["bits_per_image" if counting == "tiled" else "bits_per_image_single"]
                metrics[f"{name}_{counting}_bits_at_psnr"] = bits
                metrics[f"saving_vs_{name}_{counting}"] = 100.0 * (ours / bits - 1.0)
        tiled = [metrics[f"{name}_tiled_bits_at_psnr"] for name in self.codecs]
        if self.codecs and np.isfinite(tiled).any():
            metrics["best_classic_tiled_saving"] = 100.0 * (
                model["bits_per_image"] / float(np.nanmin(tiled)) - 1.0
            )
        if context.is_chief:
            record = {
                "examples": len(images),
                "image_shape": list(images.shape[1:]),
                "step": context.run.step,
                "lmbda": float(context.config.objective.get("lmbda", float("nan"))),
                "model_name": context.config.model.name,
                "model": model,
                "classic": classic,
            }
            os.makedirs(context.output_dir, exist_ok=True)
            write_text_atomically(
                os.path.join(context.output_dir, RESULT_FILE), json.dumps(record, indent=1)
            )
        return metrics
