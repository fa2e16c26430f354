"""Corruptions of clean inputs, for denoising: one registry for training and evaluation.

A denoising autoencoder (Vincent et al., 2010) trains on corrupted inputs with the
clean data as targets (`config.data.corruption`); the denoising evaluator corrupts
evaluation inputs with the same functions and options (`config.evals.denoising`).

Each corruption is registered by name with its options and maps clean model inputs
x [batch, ...] (float32; images in [0, 1]) to a corrupted copy of the same shape. Its
noise comes from a `BatchNoise`, which draws it for a whole *global* batch and keeps
this process's rows: a batch is corrupted the same way whatever the number of
processes, and the same on every rerun with the same seed.

In a config:

    config.data.corruption = ml_collections.ConfigDict({"name": "gaussian_noise", "std": 0.5})
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from aelab.core.errors import ConfigError
from aelab.core.options import NoOptions, Options, option, options_class, unknown_field_problem
from aelab.core.registry import Registry
from aelab.core.schema import Section, Selector


class BatchNoise:
    """Noise for this process's rows of a global batch.

    Args:
      rng: keyed by the global batch only.
      global_batch_size: rows of the global batch (the noise is drawn for all of them).
      rows: this process's rows (all rows by default).
    """

    def __init__(self, rng: np.random.Generator, global_batch_size: int, rows: slice = slice(None)):
        self.rng = rng
        self.global_batch_size = global_batch_size
        self.rows = rows

    def uniform(self, example_shape: tuple[int, ...]) -> np.ndarray:
        """U[0, 1) float32 [local rows, *example_shape]."""
        shape = (self.global_batch_size, *example_shape)
        return self.rng.random(shape, dtype=np.float32)[self.rows]

    def normal(self, example_shape: tuple[int, ...]) -> np.ndarray:
        """N(0, 1) float32 [local rows, *example_shape]."""
        shape = (self.global_batch_size, *example_shape)
        return self.rng.standard_normal(shape, dtype=np.float32)[self.rows]


CorruptionFn = Callable[..., np.ndarray]
CORRUPTIONS: Registry[CorruptionFn] = Registry("corruption")
CORRUPTION_SELECTOR = Selector(
    "name",
    CORRUPTIONS,
    choice="corruption",
    default="none",
    doc="the corruption (aelab.data.corruptions.list_corruptions())",
)


@options_class
class GaussianNoiseOptions(Options):
    """Options of "gaussian_noise"."""

    std: float = option(0.3, "standard deviation of the additive noise", above=0.0)
    clip: bool = option(True, "clip to [0, 1] (only for data scaled to [0, 1])")


@options_class
class SaltAndPepperOptions(Options):
    """Options of "salt_and_pepper"."""

    amount: float = option(0.2, "fraction of values replaced", above=0.0, maximum=1.0)
    low: float | None = option(
        None, "the pepper value (None: 0 for data in [0, 1], else each example's minimum)"
    )
    high: float | None = option(
        None, "the salt value (None: 1 for data in [0, 1], else each example's maximum)"
    )


@options_class
class MaskingOptions(Options):
    """Options of "masking"."""

    rate: float = option(0.5, "fraction of values set to `fill`", above=0.0, maximum=1.0)
    fill: float = option(0.0, "the value masked entries take")
    max_rate: float | None = option(
        None,
        "when set, each example's fraction is drawn uniformly from [rate, max_rate] (a "
        "model that fills in at any missing fraction)",
        above=0.0,
        maximum=1.0,
    )

    def check(self):
        if self.max_rate is not None and self.max_rate < self.rate:
            yield "max_rate", f"must be at least rate={self.rate} (or None)"


@CORRUPTIONS.register("none", options=NoOptions)
def no_corruption(options: NoOptions, x: np.ndarray, noise: BatchNoise, *, scaled: bool):
    """The clean inputs."""
    return x


@CORRUPTIONS.register("gaussian_noise", options=GaussianNoiseOptions)
def gaussian_noise(
    options: GaussianNoiseOptions, x: np.ndarray, noise: BatchNoise, *, scaled: bool
) -> np.ndarray:
    """x + N(0, std^2) per value; clipped to [0, 1] when `clip` and the data are scaled."""
    noisy = x + np.float32(options.std) * noise.normal(x.shape[1:])
    return (np.clip(noisy, 0.0, 1.0) if options.clip and scaled else noisy).astype(np.float32)


@CORRUPTIONS.register("salt_and_pepper", options=SaltAndPepperOptions)
def salt_and_pepper(
    options: SaltAndPepperOptions, x: np.ndarray, noise: BatchNoise, *, scaled: bool
) -> np.ndarray:
    """A fraction `amount` of the values, chosen at random, set to `low` or `high` (a fair
    coin each)."""
    hit = noise.uniform(x.shape[1:]) < options.amount
    coin = noise.uniform(x.shape[1:])
    axes = tuple(range(1, x.ndim))
    low = options.low
    if low is None:
        low = 0.0 if scaled else x.min(axis=axes, keepdims=True)
    high = options.high
    if high is None:
        high = 1.0 if scaled else x.max(axis=axes, keepdims=True)
    return np.where(hit, np.where(coin < 0.5, low, high), x).astype(np.float32)


@CORRUPTIONS.register("masking", options=MaskingOptions)
def masking(
    options: MaskingOptions, x: np.ndarray, noise: BatchNoise, *, scaled: bool
) -> np.ndarray:
    """Masking noise (Vincent et al., 2010): a fraction `rate` of the values (with
    `max_rate`, a fraction drawn per example from [rate, max_rate]), chosen at random,
    set to `fill`."""
    uniform = noise.uniform(x.shape[1:])
    rate = np.float32(options.rate)
    if options.max_rate is not None:
        spread = noise.uniform(()).reshape(-1, *([1] * (x.ndim - 1)))
        rate = rate + np.float32(options.max_rate - options.rate) * spread
    masked = uniform < rate
    return np.where(masked, np.float32(options.fill), x).astype(np.float32)


@dataclasses.dataclass(frozen=True)
class Corruption:
    """A registered corruption with its options: `corruption(x, noise, scaled=)`.

    Attributes:
      name: the registered name ("none" corrupts nothing).
      options: its options.
    """

    name: str
    options: Options = dataclasses.field(default_factory=NoOptions)

    @classmethod
    def from_section(cls, section: Any, *, path: str = "data.corruption") -> Corruption:
        """The corruption a `{name, **options}` mapping (or ConfigDict) names."""
        name = CORRUPTION_SELECTOR.value(section)
        options_class = CORRUPTIONS.options(name)
        known = ("name", *options_class.option_names())
        unknown = [key for key in (section or {}).keys() if key not in known]
        if unknown:
            raise ConfigError(
                [
                    unknown_field_problem(f"{path}.{key}", known, f"corruption {name!r}")
                    for key in unknown
                ]
            )
        return cls(name, options_class.from_section(section, path=path))

    @property
    def is_identity(self) -> bool:
        return self.name == "none"

    def __call__(self, x: np.ndarray, noise: BatchNoise, *, scaled: bool) -> np.ndarray:
        """Corrupts x [local rows, ...] with `noise` (for data scaled to [0, 1] if
        `scaled`)."""
        return CORRUPTIONS.get(self.name)(
            self.options, np.asarray(x, np.float32), noise, scaled=scaled
        )


CORRUPTION_SECTION = Section(
    "corruption",
    doc="corruption of the training inputs for denoising (the clean data become targets)",
    selectors=(CORRUPTION_SELECTOR,),
)


def list_corruptions() -> list[str]:
    """Names of all registered corruptions, sorted."""
    return CORRUPTIONS.names()
