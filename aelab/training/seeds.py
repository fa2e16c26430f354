"""Which seed drives what."""

from __future__ import annotations


def data_seed(config) -> int:
    """The data seed (shuffling, binarisation noise): `config.data.seed`, or
    `config.seed` when that is unset."""
    seed = config.data.get("seed")
    return int(config.seed) if seed is None else int(seed)
