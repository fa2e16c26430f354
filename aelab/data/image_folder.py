"""A folder of images, one sub-folder per class, as a data set
(`config.data.name = "image_folder"`, `config.data.path = <folder>`).

Layouts (`aelab.data.image_files`): `<folder>/<split>/<class>/*.png|jpg|...` (splits
train, validation, test) or `<folder>/<class>/*` (everything in `train`: slice it as
`train[:90%]`, or let `validation_fraction` carve a validation part). Images become
`image` uint8 [h, w, 1] (`grayscale`) or [h, w, 3], scaled by 255; labels number the
sorted class names (`class_names(config.data)` gives them).

Prepared through a TFDS builder (`aelab.data.builders.AelabImageFolder`), as the other
data sets read from files are, rather than decoded at every start: decoding thousands
of images costs far more than reading prepared records, the prepared copy is keyed by
a fingerprint of the file list (paths, sizes, modification times) and the options so a
changed folder is prepared again, and `in_memory=False` reads a large folder lazily.
"""

from __future__ import annotations

import ml_collections
import tensorflow_datasets as tfds

from aelab.core.options import Options, option, options_class
from aelab.data import builders
from aelab.data.records import DatasetInfo, RecordSource, info_from_builder, read_split
from aelab.data.sources import DATASETS, source_options, tfds_dir, user_path


@options_class
class ImageFolderOptions(Options):
    """`config.data` options of the "image_folder" data set."""

    path: str = option(
        doc="the folder of <class>/ (or <split>/<class>/) image folders; relative paths "
        "are taken from the data dir"
    )
    image_size: tuple[int, ...] | None = option(
        None,
        "(height, width) every image is resized to (None: keep the files' size, which "
        "must then be the same for all)",
        minimum=1,
        min_length=2,
    )
    grayscale: bool = option(False, "read images as one grey channel (False: RGB)")

    def check(self):
        if self.image_size is not None and len(self.image_size) != 2:
            yield "image_size", "must be (height, width)"


class _ImageFolderDataset:
    """A user's image folder, prepared once into the TFDS dir (see the module docstring)."""

    def _builder(self, data_config: ml_collections.ConfigDict) -> tfds.core.DatasetBuilder:
        options = ImageFolderOptions.from_section(data_config, path="data")
        path = user_path(data_config, options.path)
        config = builders.image_folder_config(
            path, image_size=options.image_size, grayscale=options.grayscale
        )
        return builders.prepare(
            builders.AelabImageFolder, tfds_dir=tfds_dir(data_config), config=config
        )

    def info(self, data_config: ml_collections.ConfigDict) -> DatasetInfo:
        return info_from_builder(self._builder(data_config), name="image_folder")

    def load(
        self, data_config: ml_collections.ConfigDict, split: str
    ) -> tuple[RecordSource, DatasetInfo]:
        builder = self._builder(data_config)
        in_memory = source_options(data_config).in_memory
        source = read_split(builder, name="image_folder", split=split, in_memory=in_memory)
        return source, info_from_builder(builder, name="image_folder")


def class_names(data_config: ml_collections.ConfigDict) -> tuple[str, ...]:
    """The class names of the image folder `data_config` names: label i is the i-th."""
    builder = _ImageFolderDataset()._builder(data_config)
    return tuple(builder.info.metadata["class_names"])


DATASETS.register("image_folder", options=ImageFolderOptions)(_ImageFolderDataset())
