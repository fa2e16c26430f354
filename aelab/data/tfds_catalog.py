"""`tfds:<name>`: any TFDS data set already prepared (as array_record) in a TFDS data dir:
`config.tfds_data_dir`, else `$AELAB_TFDS_DIR`, else TFDS's own default
(`$TFDS_DATA_DIR` or `~/tensorflow_datasets`)."""

from __future__ import annotations

import dataclasses
import os

import ml_collections
import tensorflow_datasets as tfds

from aelab.data.errors import DataError
from aelab.data.records import DatasetInfo, RecordSource, info_from_builder, read_split
from aelab.data.sources import register_prefix, source_options

TFDS_PREFIX = "tfds:"


@dataclasses.dataclass(frozen=True)
class _TfdsCatalogDataset:
    """`tfds:<name>`: a TFDS data set already prepared (as array_record) in a TFDS data dir."""

    tfds_name: str

    def _builder(self, data_config: ml_collections.ConfigDict) -> tfds.core.DatasetBuilder:
        data_dir = source_options(data_config).tfds_data_dir or os.environ.get("AELAB_TFDS_DIR")
        where = data_dir or "TFDS's default data dir ($TFDS_DATA_DIR or ~/tensorflow_datasets)"
        how_to_prepare = (
            "aelab reads TFDS data sets but does not prepare TFDS's own builders: for image "
            "sets that needs TensorFlow (PNG encoding), and most download their files. "
            f"Prepare it on a machine with both (tfds build {self.tfds_name} "
            "--file_format=array_record --data_dir=DIR), copy DIR here and set "
            "config.data.tfds_data_dir (or AELAB_TFDS_DIR) to it. For MNIST, Fashion-MNIST, "
            "binarized MNIST and ECG5000 use aelab's own names (mnist, ...), which prepare "
            "from local files."
        )
        try:
            builder = tfds.builder(self.tfds_name, data_dir=data_dir)
        except (ValueError, AssertionError, ImportError) as e:
            first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise DataError(
                f"No TFDS data set {self.tfds_name!r} in {where}: {first_line}\n{how_to_prepare}"
            ) from None
        if not builder.is_prepared():
            raise DataError(
                f"TFDS data set {self.tfds_name!r} is not prepared in {where}.\n{how_to_prepare}"
            )
        return builder

    def info(self, data_config: ml_collections.ConfigDict) -> DatasetInfo:
        return info_from_builder(self._builder(data_config), name=TFDS_PREFIX + self.tfds_name)

    def load(
        self, data_config: ml_collections.ConfigDict, split: str
    ) -> tuple[RecordSource, DatasetInfo]:
        builder, name = self._builder(data_config), TFDS_PREFIX + self.tfds_name
        in_memory = source_options(data_config).in_memory
        source = read_split(builder, name=name, split=split, in_memory=in_memory)
        return source, info_from_builder(builder, name=name)


register_prefix(TFDS_PREFIX, _TfdsCatalogDataset)
