"""Data sets generated from known factors of variation: what a disentanglement
evaluator needs besides the records.

A record source of such a data set (dSprites) also offers `FactorSource`: the names and
sizes of its discrete factors, and records for any chosen factor classes, so that an
evaluator can make examples that share one factor (the BetaVAE and FactorVAE scores).
Its records carry `factors`, int64 [num_factors], the classes of the record's factors.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class FactorSource(Protocol):
    """A record source whose records are generated from discrete factors.

    Attributes:
      factor_names: the factors' names, e.g. ("shape", "scale", ...).
      factor_sizes: the number of classes of each factor, e.g. (3, 6, 40, 32, 32).
    """

    factor_names: tuple[str, ...]
    factor_sizes: tuple[int, ...]

    def records_of_factors(self, factors: np.ndarray) -> dict[str, np.ndarray]:
        """The records of factor classes `factors` int [n, num_factors], stacked like
        `get_batch`'s: `{'image': [n, ...], 'label': [n], 'factors': [n, num_factors]}`.
        Any combination of classes is a record, whichever split the source serves."""
        ...
