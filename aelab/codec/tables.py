"""The entropy coder's integer probability tables.

Every table is a list of integer frequencies that sum to 2**PRECISION, each at least 1
(so every symbol of the table's range can be coded), over consecutive integer values
starting at the table's offset. Values outside a table's range are clipped to it by the
encoder (the tables span all but TAIL_MASS of each density, so this happens to about one
latent in a billion); the quantized reconstruction the codec promises is that of the
clipped latents.

Why integers: encoder and decoder must build bit-identical models, on any machine and
device. The tables are computed once from the trained density (in float64 on the host)
and stored; both sides read the stored integers, and the coder's models are made from
them by the same deterministic code. No floating-point network output takes part in
parsing a factorized-prior bitstream.
"""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np

PRECISION = 16
TAIL_MASS = 1e-9
# The widest support searched for a channel's density: |value| <= MAX_RANGE.
MAX_RANGE = 8192


@dataclasses.dataclass(frozen=True)
class SymbolTables:
    """T integer frequency tables.

    Attributes:
      frequencies: [T, L] int64, row t's first lengths[t] entries used (sum 2**PRECISION),
        the rest 0.
      offsets: [T] int64, the value symbol 0 of table t stands for.
      lengths: [T] int64.
    """

    frequencies: np.ndarray
    offsets: np.ndarray
    lengths: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets)

    def probabilities(self, table: int) -> np.ndarray:
        """Table `table` as float64 probabilities (exact: frequencies / 2**PRECISION)."""
        row = self.frequencies[table, : self.lengths[table]]
        return row.astype(np.float64) / float(2**PRECISION)

    def symbols(self, values: np.ndarray, tables: np.ndarray) -> np.ndarray:
        """Integer values -> symbol indices of their tables (clipped into range); same
        shape as `values`."""
        offsets, lengths = self.offsets[tables], self.lengths[tables]
        return np.clip(values.astype(np.int64) - offsets, 0, lengths - 1)

    def values(self, symbols: np.ndarray, tables: np.ndarray) -> np.ndarray:
        """The inverse of `symbols` (for in-range values)."""
        return symbols.astype(np.int64) + self.offsets[tables]

    def digest(self) -> bytes:
        """A hash of the tables (part of a model's identity in compressed files)."""
        h = hashlib.sha256()
        for array in (self.frequencies, self.offsets, self.lengths):
            h.update(np.ascontiguousarray(array, dtype="<i8").tobytes())
        return h.digest()

    def as_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {
            f"{prefix}_frequencies": self.frequencies,
            f"{prefix}_offsets": self.offsets,
            f"{prefix}_lengths": self.lengths,
        }

    @classmethod
    def from_arrays(cls, arrays, prefix: str) -> SymbolTables:
        return cls(
            frequencies=np.asarray(arrays[f"{prefix}_frequencies"], np.int64),
            offsets=np.asarray(arrays[f"{prefix}_offsets"], np.int64),
            lengths=np.asarray(arrays[f"{prefix}_lengths"], np.int64),
        )


def quantize_probabilities(pmf: np.ndarray) -> np.ndarray:
    """float probabilities [L] (summing to ~1) -> int64 frequencies [L], each >= 1,
    summing to 2**PRECISION; deterministic (ties broken by position)."""
    total = 2**PRECISION
    if len(pmf) > total:
        raise ValueError(f"A table of {len(pmf)} symbols does not fit {PRECISION}-bit precision.")
    pmf = np.asarray(pmf, np.float64)
    if not np.isfinite(pmf).all():
        raise ValueError("A probability table holds NaN or infinite values.")
    pmf = np.maximum(pmf, 0.0)
    total_mass = pmf.sum()
    pmf = pmf / total_mass if total_mass > 0 else np.full(len(pmf), 1.0 / len(pmf))
    # Each symbol first gets one count; the rest is shared in proportion to pmf.
    share = pmf * (total - len(pmf))
    frequencies = 1 + np.floor(share).astype(np.int64)
    remainder = total - int(frequencies.sum())
    order = np.lexsort((np.arange(len(pmf)), -(share - np.floor(share))))
    frequencies[order[:remainder]] += 1
    return frequencies


def _pack(rows: list[np.ndarray], offsets: list[int]) -> SymbolTables:
    width = max(len(row) for row in rows)
    frequencies = np.zeros((len(rows), width), np.int64)
    for t, row in enumerate(rows):
        frequencies[t, : len(row)] = row
    return SymbolTables(
        frequencies=frequencies,
        offsets=np.asarray(offsets, np.int64),
        lengths=np.asarray([len(row) for row in rows], np.int64),
    )


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _saturate_tails(logits: np.ndarray, channel: int) -> None:
    """Far out in a tail a float32 density network can overflow to inf - inf = NaN; the
    CDF is monotone, so a NaN below the median is a logit of -inf and above it +inf
    (in place)."""
    missing = np.isnan(logits)
    if not missing.any():
        return
    finite = np.nonzero(~missing)[0]
    if len(finite) == 0:
        raise ValueError(f"Channel {channel} of the density gives NaN everywhere.")
    at_or_above = finite[logits[finite] >= 0.0]
    median = at_or_above[0] if len(at_or_above) else len(logits)
    if missing[finite[0] : finite[-1] + 1].any():
        raise ValueError(f"Channel {channel} of the density gives NaN inside its support.")
    index = np.arange(len(logits))
    logits[missing & (index < median)] = -np.inf
    logits[missing & (index >= median)] = np.inf


def factorized_tables(logits_cdf, channels: int) -> SymbolTables:
    """One table per channel of a learned factorized density.

    Args:
      logits_cdf: values [n, channels] -> logits of each channel's CDF [n, channels].
      channels: C.
    """
    # edges[j] = k_j + 1/2 with k_j = j - MAX_RANGE - 1: value k's bin is
    # [edges[j - 1], edges[j]] for j = k + MAX_RANGE + 1.
    edges = np.arange(-MAX_RANGE - 1, MAX_RANGE + 1, dtype=np.float64) + 0.5
    logits = np.asarray(logits_cdf(np.repeat(edges[:, None], channels, axis=1)), np.float64)
    rows, offsets = [], []
    for c in range(channels):
        _saturate_tails(logits[:, c], c)
        below = _sigmoid(logits[:, c])  # P(value < edge)
        above = _sigmoid(-logits[:, c])  # P(value > edge), precise in the upper tail
        j_low = int(np.argmax(below > TAIL_MASS))
        j_high = len(edges) - 1 - int(np.argmax(above[::-1] > TAIL_MASS)) + 1
        if below[j_low] <= TAIL_MASS or above[j_high - 1] <= TAIL_MASS:
            raise ValueError(f"Channel {c} of the density has no mass within +-{MAX_RANGE}.")
        if j_low < 1 or j_high > len(edges) - 1:
            raise ValueError(
                f"Channel {c} of the density spreads past +-{MAX_RANGE}: its latents are "
                "too large to code (was the model trained?)."
            )
        j = np.arange(j_low, j_high + 1)
        # Each bin from the side of the median where its edges' CDF values are small.
        pmf = np.where(below[j] < 0.5, below[j] - below[j - 1], above[j - 1] - above[j])
        pmf[0] += below[j_low - 1]  # the tails go to the end symbols
        pmf[-1] += above[j_high]
        if len(pmf) == 1:
            # An unused channel (all its mass at one value): the coder needs two symbols,
            # the second gets the least count (a cost of ~2e-5 bits per latent).
            pmf = np.append(pmf, 0.0)
        rows.append(quantize_probabilities(pmf))
        offsets.append(j_low - MAX_RANGE - 1)
    return _pack(rows, offsets)


def scale_table(minimum: float, maximum: float = 256.0, count: int = 64) -> np.ndarray:
    """The scales of the Gaussian conditional's tables: `count` log-spaced values."""
    return np.exp(np.linspace(np.log(minimum), np.log(maximum), count))


def gaussian_tables(scales: np.ndarray) -> SymbolTables:
    """One table per scale of N(0, scale^2) integrated over unit bins, symmetric around
    0, covering all but TAIL_MASS."""
    from scipy.special import ndtr

    rows, offsets = [], []
    for scale in np.asarray(scales, np.float64):
        # The tail beyond r + 1/2 is below TAIL_MASS / 2 on each side.
        radius = int(np.ceil(scale * 6.2 - 0.5)) + 1
        values = np.arange(-radius, radius + 1, dtype=np.float64)
        upper = ndtr((values + 0.5) / scale)
        lower = ndtr((values - 0.5) / scale)
        pmf = upper - lower
        pmf[0] += lower[0]
        pmf[-1] += 1.0 - upper[-1]
        rows.append(quantize_probabilities(pmf))
        offsets.append(-radius)
    return _pack(rows, offsets)
