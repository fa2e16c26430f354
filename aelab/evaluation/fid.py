"""Inception FID (pytorch-fid weights): the Fréchet distance (Heusel et al., 2017) between
Gaussians fitted to the FID Inception-v3's 2048-d pool3 features
(`aelab.evaluation.fid_inception`, weights from a local file converted from pytorch-fid's
`pt_inception-2015-12-05-6726825d.pth`; docs/fid.md) of real test images and of the
model's reconstructions (rFID) and prior samples (FID).

Images are mapped as pytorch-fid sees PNG files: the model's outputs and the real images
(scaled to [0, 1]) are clipped to [0, 1] and rounded to 256 levels, as 8-bit PNGs would
hold them; grey images are repeated to RGB; the network resizes them to 299x299
(bilinear). The number is comparable to published FIDs only with the published weights,
this preprocessing and the same number of images (FID is biased upward for small sets:
compare models at equal `num_examples`, and read `train_test_fid`, two sets of real
images, as the floor the number can reach at that size).
"""

from __future__ import annotations

import numpy as np
from absl import logging

from aelab.core.options import REQUIRED, option, options_class
from aelab.evaluation.compared_images import compared_images
from aelab.evaluation.fid_inception import FIDInception, load_fid_inception
from aelab.evaluation.frechet import feature_frechet_distance
from aelab.evaluation.inception_weights import CONVERT_COMMAND, FEATURE_DIM
from aelab.evaluation.registry import Evaluator, register_evaluator

PNG_LEVELS = 255


def as_png_levels(images: np.ndarray, shape: tuple[int, ...], what: str) -> np.ndarray:
    """Images [n, ...] in [0, 1] (any float values) -> float32 [n, *shape] clipped to
    [0, 1] and rounded to k / 255, what 8-bit PNG files of them hold. Non-finite
    values raise a ValueError naming `what`."""
    images = np.asarray(images, np.float32).reshape(len(images), *shape)
    bad = ~np.isfinite(images).reshape(len(images), -1).all(axis=1)
    if bad.any():
        raise ValueError(
            f"evaluator 'fid': {int(bad.sum())} of {len(images)} {what} hold NaN or infinite "
            "values; no FID is computed for a model that outputs them."
        )
    return np.round(np.clip(images, 0.0, 1.0) * PNG_LEVELS) / PNG_LEVELS


def checked_features(inception: FIDInception, images: np.ndarray, what: str) -> np.ndarray:
    """The Inception features [n, feature_dim] of `images`; a ValueError naming `what`
    when any is not finite (weights whose activations overflow)."""
    features = inception.features(images)
    bad = ~np.isfinite(features).all(axis=1)
    if bad.any():
        raise ValueError(
            f"evaluator 'fid': the Inception features of {int(bad.sum())} of {len(images)} "
            f"{what} are not finite; the weights file is not a working FID Inception (make "
            f"it with `{CONVERT_COMMAND}`)."
        )
    return features


@register_evaluator("fid")
@options_class
class FIDEvaluator(Evaluator):
    """Inception FID (pytorch-fid weights) of reconstructions and samples against the
    real evaluation images, `num_examples` images in every set.

    Metrics:
      rfid: Inception FID (pytorch-fid weights), real evaluation images vs their
        reconstructions (a VAE decodes its posterior mean; a conditional model reads
        the true label).
      fid: Inception FID (pytorch-fid weights), real evaluation images vs as many
        decoded prior samples (latent-variable models only; a conditional model samples
        the classes in equal numbers).
      train_test_fid: Inception FID (pytorch-fid weights), real training images vs the
        real evaluation images: the value two sets of real images of this size reach.
      num_examples: the images in each set (fewer than the option when the evaluation
        split is smaller).

    Options:
      weights_path: the local weights file (docs/fid.md).
      num_examples: images per set (the standard 10,000 or 50,000 on an accelerator).
      batch_size: images per Inception call.
    """

    weights_path: str = option(
        REQUIRED,
        "path of the FID Inception weights file (.safetensors or .npz), made from "
        "pytorch-fid's pt_inception-2015-12-05-6726825d.pth by "
        "tools/convert_inception_weights.py (docs/fid.md)",
    )
    num_examples: int = option(
        500,
        "images in each compared set: the first this many evaluation images, as many "
        "training images and samples (500: about 10 min on 2 CPU cores; published FIDs "
        "use 10,000 or 50,000)",
        minimum=2,
    )
    batch_size: int = option(50, "images per jitted Inception call", minimum=1)

    def __call__(self, context) -> dict[str, float]:
        if not context.is_image:
            raise ValueError(
                "evaluator 'fid' compares images [height, width, 1 or 3]; this run's "
                f"examples have shape {context.display_shape}."
            )
        if context.spec.transform.value_max is None:
            raise ValueError(
                "evaluator 'fid' compares images scaled to [0, 1]; this run's inputs are not "
                "scaled (set config.data.scale=True)."
            )
        inception = load_fid_inception(self.weights_path, batch_size=self.batch_size)
        if inception.feature_dim != FEATURE_DIM:
            logging.warning(
                "%s holds a reduced-width Inception (%d features, not %d): its numbers "
                "are not FID.",
                self.weights_path,
                inception.feature_dim,
                FEATURE_DIM,
            )
        images = compared_images(
            context, max_examples=self.num_examples, num_samples=None, sample_key="fid"
        )
        shape = context.display_shape
        sets = {
            "real evaluation images": images.real.inputs,
            "real training images": images.train,
            "reconstructions": images.reconstructions,
        }
        if images.samples is not None:
            sets["prior samples"] = images.samples
        pixels = {what: as_png_levels(x, shape, what) for what, x in sets.items()}
        features = {what: checked_features(inception, x, what) for what, x in pixels.items()}
        real = features["real evaluation images"]
        metrics = {
            "rfid": feature_frechet_distance(real, features["reconstructions"]),
            "train_test_fid": feature_frechet_distance(features["real training images"], real),
            "num_examples": float(len(real)),
        }
        if "prior samples" in features:
            metrics["fid"] = feature_frechet_distance(real, features["prior samples"])
        return metrics
