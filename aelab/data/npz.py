"""A user's own `.npz` file as a data set (`config.data.name = "npz"`)."""

from __future__ import annotations

import ml_collections
import tensorflow_datasets as tfds

from aelab.core.options import Options, option, options_class
from aelab.data import builders
from aelab.data.records import INPUT_KEYS, DatasetInfo, RecordSource, info_from_builder, read_split
from aelab.data.sources import DATASETS, source_options, tfds_dir, user_path


@options_class
class NpzOptions(Options):
    """`config.data` options of the "npz" data set."""

    path: str = option(
        doc="the .npz file: arrays 'train' and 'test' (optionally 'validation' and "
        "'<split>_labels'); relative paths are taken from the data dir"
    )
    input_key: str = option("image", "the feature name of the model input", choices=INPUT_KEYS)


# TFDS is imported on first use, not at `import aelab.data`: it takes ~0.7 s to import
# and neither `digits` nor `DatasetInfo` needs it.


class _NpzDataset:
    """A user `.npz` file: `config.path` (relative paths are taken from the data dir).

    Layout: see `aelab.data.builders.npz_config`. `config.input_key` (default "image";
    "image", "series" or "inputs") names the input feature. Prepared once into the TFDS
    dir, keyed by the file's hash.
    """

    def _builder(self, data_config: ml_collections.ConfigDict) -> tfds.core.DatasetBuilder:
        options = NpzOptions.from_section(data_config, path="data")
        path = user_path(data_config, options.path)
        config = builders.npz_config(path, input_key=options.input_key)
        return builders.prepare(builders.AelabNpz, tfds_dir=tfds_dir(data_config), config=config)

    def info(self, data_config: ml_collections.ConfigDict) -> DatasetInfo:
        return info_from_builder(self._builder(data_config), name="npz")

    def load(
        self, data_config: ml_collections.ConfigDict, split: str
    ) -> tuple[RecordSource, DatasetInfo]:
        builder = self._builder(data_config)
        in_memory = source_options(data_config).in_memory
        source = read_split(builder, name="npz", split=split, in_memory=in_memory)
        return source, info_from_builder(builder, name="npz")


DATASETS.register("npz", options=NpzOptions)(_NpzDataset())
