"""Per-batch transforms from raw records to model inputs.

Transforms run on the host inside the grain pipeline, vectorised over a batch. Random
ones (dynamic binarisation, corruption for denoising) draw their noise for the whole
*global* batch from an rng keyed by (seed, batch index) and then keep this process's
rows, so a batch is the same whatever the number of processes, and the same on every
rerun.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from aelab.core.options import Options, option, options_class
from aelab.data.corruptions import BatchNoise, Corruption

BINARIZE_MODES = ("none", "dynamic", "threshold")


@options_class
class TransformOptions(Options):
    """`config.data` options of the per-batch transform."""

    scale: bool = option(True, "raw values -> [0, 1] (by the data set's largest raw value)")
    binarize: str = option(
        "none",
        "'dynamic' (a fresh Bernoulli sample of each batch, as in the IWAE paper), "
        "'threshold' (x > 0.5) or 'none'",
        choices=BINARIZE_MODES,
    )
    flatten: bool = option(False, "reshape each example to a vector")


def scale_to_unit_interval(x: np.ndarray, value_max: float | None) -> np.ndarray:
    """Raw values in [0, value_max] -> float32 in [0, 1]; unchanged (as float32) when
    `value_max` is None (real-valued data such as z-normalised time series)."""
    x = x.astype(np.float32)
    return x if value_max is None else x / np.float32(value_max)


def binarize_dynamic(x: np.ndarray, uniform_noise: np.ndarray) -> np.ndarray:
    """Samples x_bin ~ Bernoulli(x) elementwise: 1 where noise < x. x in [0, 1]."""
    return (uniform_noise < x).astype(np.float32)


def binarize_threshold(x: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Deterministic binarisation: 1 where x > threshold."""
    return (x > threshold).astype(np.float32)


@dataclasses.dataclass(frozen=True)
class BatchTransform:
    """Turns raw records {input_key: [b, ...], "label": [b]} into a model batch
    {"inputs": float32 [b, ...], "label": int32 [b]}.

    Attributes:
      input_key: the raw feature holding the model input ("image", "series").
      value_max: raw maximum for scaling to [0, 1]; None to leave values as they are.
      binarize: "none", "dynamic" (a fresh Bernoulli sample each time a batch is drawn,
        as in the IWAE paper) or "threshold" (x > 0.5).
      flatten: reshape each example to a vector (for dense models; they also accept
        unflattened inputs).
      corruption: for denoising autoencoders (Vincent et al., 2010), how "inputs" are
        corrupted while "targets" keep the clean data (`aelab.data.corruptions`).
        Evaluation batches are corrupted too (with a fixed noise stream), so evaluation
        measures denoising.
    """

    input_key: str
    value_max: float | None
    binarize: str = "none"
    flatten: bool = False
    corruption: Corruption = dataclasses.field(default_factory=lambda: Corruption("none"))

    def __call__(
        self,
        raw: dict[str, np.ndarray],
        *,
        rng: np.random.Generator,
        global_batch_size: int,
        local_rows: slice,
    ) -> dict[str, np.ndarray]:
        """Transforms this process's rows `local_rows` of a global batch.

        `rng` must be keyed by the global batch only; it draws noise for all
        `global_batch_size` rows so every process sees its part of the same global batch.
        With corruption, the batch also holds "targets", the clean data.
        """
        x = scale_to_unit_interval(raw[self.input_key], self.value_max)
        if self.binarize == "dynamic":
            noise = rng.random((global_batch_size, *x.shape[1:]), dtype=np.float32)
            x = binarize_dynamic(x, noise[local_rows])
        elif self.binarize == "threshold":
            x = binarize_threshold(x)
        batch = {"inputs": x}
        if not self.corruption.is_identity:
            noise = BatchNoise(rng, global_batch_size, local_rows)
            corrupted = self.corruption(x, noise, scaled=self.value_max is not None)
            batch = {"inputs": corrupted, "targets": x}
        if self.flatten:
            batch = {key: value.reshape(value.shape[0], -1) for key, value in batch.items()}
        if "label" in raw:
            batch["label"] = raw["label"].astype(np.int32)
        return batch

    def prepare_split(self, raw: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Everything but the per-batch noise, for many records at once.

        Returns {"inputs": float32 [n, ...] (scaled, threshold-binarised, flattened as
        configured; not yet dynamically binarised), "label": int32 [n] if present}.
        `apply_noise(prepared, noise)` on the rows of a batch then equals `__call__`.
        """
        x = scale_to_unit_interval(raw[self.input_key], self.value_max)
        if self.binarize == "threshold":
            x = binarize_threshold(x)
        if self.flatten:
            x = x.reshape(x.shape[0], -1)
        prepared = {"inputs": x}
        if "label" in raw:
            prepared["label"] = raw["label"].astype(np.int32)
        return prepared

    @property
    def draws_noise(self) -> bool:
        """Whether each batch needs fresh noise (dynamic binarisation)."""
        return self.binarize == "dynamic"

    def batch_noise(
        self,
        rng: np.random.Generator,
        global_batch_size: int,
        raw_example_shape: tuple[int, ...],
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """The noise `__call__` draws for a global batch, shaped like prepared inputs:
        float32 [global_batch_size, *example_shape(raw_example_shape)], written into
        `out` (that shape, C-contiguous) when given."""
        shape = (global_batch_size, *raw_example_shape)
        if out is not None:
            rng.random(shape, dtype=np.float32, out=out.reshape(shape))
            return out
        noise = rng.random(shape, dtype=np.float32)
        return noise.reshape(global_batch_size, *self.example_shape(raw_example_shape))

    @staticmethod
    def apply_noise(inputs, noise):
        """Dynamic binarisation of prepared inputs with `batch_noise` (NumPy or JAX)."""
        return binarize_dynamic(inputs, noise)

    def example_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Shape of one transformed example."""
        return (int(np.prod(input_shape)),) if self.flatten else tuple(input_shape)


def batch_transform_from_config(data_config, info) -> BatchTransform:
    """The `BatchTransform` for `config.data` over a data set described by `info`."""
    options = TransformOptions.from_section(data_config, path="data")
    corruption = data_config.get("corruption") if data_config is not None else None
    return BatchTransform(
        input_key=info.input_key,
        value_max=info.value_max if options.scale else None,
        binarize=options.binarize,
        flatten=options.flatten,
        corruption=Corruption.from_section(corruption),
    )
