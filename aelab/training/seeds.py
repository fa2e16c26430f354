"""Which seed drives what."""

from __future__ import annotations

from aelab.core.options import Options, option, options_class
from aelab.data.pipeline import PipelineOptions


@options_class
class SeedOptions(Options):
    """The top-level `config.seed`."""

    seed: int = option(
        0,
        "parameters and training randomness; the data seed defaults to it",
        minimum=0,
        maximum=2**63 - 1,
    )


def data_seed(config) -> int:
    """The data seed (shuffling, binarisation noise): `config.data.seed`, or
    `config.seed` when that is unset."""
    seed = PipelineOptions.from_section(config.data, path="data").seed
    return int(SeedOptions.from_section(config).seed) if seed is None else int(seed)
