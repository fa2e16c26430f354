"""Compression, estimated: a plain autoencoder's quantized code next to zlib and PNG.

An estimate, not a codec: no file is written and nothing is decoded (the learned codecs,
trained for rate and distortion and measured on real files against JPEG, WebP, JPEG XL
and AVIF, are the `rate_distortion` evaluator's).

Each code dimension is quantized uniformly to `bits` bits over the range its values
take on training examples (values outside are clipped). Reported rates, in bits per
example:

- code_bits: the fixed-length code, code_size * bits;
- code_bits_entropy_coded: what an ideal per-dimension entropy coder (arithmetic
  coding) would spend, with symbol probabilities fitted on the training codes (add-one
  smoothing): the cross-entropy of the test symbols under those histograms;
- raw_bits: the data as stored (1 bit per value for binarised inputs, 8 for 8-bit
  images, 32 for float series);
- zlib_bits (each example compressed alone, level 9), zlib_bits_whole_split (the split
  compressed as one stream, divided by its size), png_bits (each image as its own PNG,
  headers included): lossless baselines of the same data.

Quality at that rate: mse / psnr (/ ssim) of decode(dequantized code) against the input,
and mse_unquantized for decode(code) without quantization. Ratios: compression_ratio =
raw_bits / code_bits, and the same against PNG and zlib. (The code is lossy and the
baselines lossless: compare rates together with the quality columns.)
"""

from __future__ import annotations

import dataclasses
import io
import zlib

import numpy as np
from PIL import Image

from aelab.core.options import option, options_class
from aelab.evaluation.image_quality import mean_squared_error, quality_metrics
from aelab.evaluation.registry import Evaluator, register_evaluator


@dataclasses.dataclass(frozen=True)
class UniformQuantizer:
    """Per-dimension uniform quantizer over [low, high] with 2**bits levels.

    Attributes:
      low, high: [code_size] ranges.
      bits: bits per dimension.
    """

    low: np.ndarray
    high: np.ndarray
    bits: int

    @classmethod
    def fit(cls, codes: np.ndarray, bits: int) -> UniformQuantizer:
        """Ranges from codes [n, code_size] (a constant dimension gets a tiny width)."""
        if not 1 <= bits <= 16:
            raise ValueError(f"bits={bits} is not valid; use 1 to 16 bits per code dimension.")
        low, high = codes.min(axis=0), codes.max(axis=0)
        return cls(low=low, high=np.maximum(high, low + 1e-8), bits=bits)

    @property
    def levels(self) -> int:
        return 2**self.bits

    def symbols(self, codes: np.ndarray) -> np.ndarray:
        """codes [n, code_size] -> int symbols in [0, levels)."""
        scaled = (codes - self.low) / (self.high - self.low) * (self.levels - 1)
        return np.clip(np.round(scaled), 0, self.levels - 1).astype(np.int64)

    def values(self, symbols: np.ndarray) -> np.ndarray:
        """The reconstruction points of `symbols`: [n, code_size] float32."""
        return (self.low + symbols / (self.levels - 1) * (self.high - self.low)).astype(np.float32)


def entropy_coded_bits(train_symbols: np.ndarray, test_symbols: np.ndarray, levels: int) -> float:
    """Mean bits per example to code `test_symbols` [n, d] with per-dimension symbol
    probabilities fitted (add-one smoothing) on `train_symbols` [m, d]."""
    total = 0.0
    for dim in range(test_symbols.shape[1]):
        counts = np.bincount(train_symbols[:, dim], minlength=levels) + 1.0
        log_probs = np.log2(counts / counts.sum())
        total -= log_probs[test_symbols[:, dim]].sum()
    return total / len(test_symbols)


def stored_form(inputs: np.ndarray, binarized: bool, scaled: bool) -> tuple[np.ndarray, int]:
    """The data as it would be stored, and bits per value: packed bits for binary data,
    uint8 for images scaled to [0, 1], float32 otherwise. inputs: [n, ...]."""
    flat = inputs.reshape(len(inputs), -1)
    if binarized:
        return np.packbits(flat > 0.5, axis=1), 1
    if scaled:
        return np.round(flat * 255).astype(np.uint8), 8
    return flat.astype(np.float32), 32


def png_bits(images: np.ndarray, binarized: bool) -> float:
    """Mean size in bits of each image [n, h, w, c] in [0, 1] saved alone as PNG."""
    total = 0
    for image in images:
        if image.shape[-1] == 1:
            image = image[..., 0]
        if binarized:
            picture = Image.fromarray(image > 0.5).convert("1")
        else:
            picture = Image.fromarray(np.round(image * 255).astype(np.uint8))
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG", optimize=True)
        total += buffer.tell()
    return 8.0 * total / len(images)


@register_evaluator("compression")
@options_class
class CompressionEvaluator(Evaluator):
    """Rate and quality of the quantized code vs raw, zlib and PNG (see module doc).

    Options:
      bits: bits per code dimension.
      max_examples: test examples (None: the whole split).
      fit_examples: training examples that set the quantizer ranges and symbol
        probabilities.
    """

    bits: int = option(8, "bits per code dimension", minimum=1, maximum=16)
    max_examples: int | None = option(None, "test examples (None: the whole split)", minimum=1)
    fit_examples: int = option(
        10_000,
        "training examples that set the quantizer ranges and symbol probabilities",
        minimum=1,
    )

    def __call__(self, context) -> dict[str, float]:
        test = context.split("eval", labels=context.eval_labels(), max_examples=self.max_examples)
        train = context.split(
            "train", labels=context.train_labels(), max_examples=self.fit_examples
        )
        calls = context.model_calls
        train_codes = calls.codes(train.inputs)
        test_mean, _ = calls.encode(test.inputs)
        latent_shape = test_mean.shape[1:]
        test_codes = test_mean.reshape(len(test_mean), -1)

        quantizer = UniformQuantizer.fit(train_codes, self.bits)
        symbols = quantizer.symbols(test_codes)
        dequantized = quantizer.values(symbols).reshape(len(symbols), *latent_shape)
        reconstructions = calls.decode(dequantized)
        image_shape = context.display_shape if context.is_image else None
        metrics = quality_metrics(
            test.inputs, reconstructions, data_range=context.data_range, image_shape=image_shape
        )
        metrics["mse_unquantized"] = float(
            np.mean(mean_squared_error(test.inputs, calls.reconstruct(test.inputs)))
        )

        code_size = test_codes.shape[1]
        code_bits = float(code_size * self.bits)
        transform = context.spec.transform
        binarized = transform.binarize != "none"
        stored, bits_per_value = stored_form(
            test.inputs, binarized, scaled=transform.value_max is not None
        )
        raw_bits = float(np.prod(test.inputs.shape[1:]) * bits_per_value)
        zlib_bits = float(np.mean([8 * len(zlib.compress(row.tobytes(), 9)) for row in stored]))
        metrics.update(
            code_size=float(code_size),
            code_bits=code_bits,
            code_bits_entropy_coded=entropy_coded_bits(
                quantizer.symbols(train_codes), symbols, quantizer.levels
            ),
            raw_bits=raw_bits,
            zlib_bits=zlib_bits,
            zlib_bits_whole_split=8.0 * len(zlib.compress(stored.tobytes(), 9)) / len(stored),
            compression_ratio=raw_bits / code_bits,
            compression_ratio_vs_zlib=zlib_bits / code_bits,
        )
        if image_shape is not None:
            images = test.inputs.reshape(len(test.inputs), *image_shape)
            metrics["png_bits"] = png_bits(images, binarized)
            metrics["compression_ratio_vs_png"] = metrics["png_bits"] / code_bits
        return metrics
