"""A user's folder of images, one sub-folder per class: its validated config and builder."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import tensorflow_datasets as tfds

from aelab.data.builders.features import array_feature
from aelab.data.errors import DataError
from aelab.data.image_files import ImageFolder, image_size, list_image_folder, read_image


@dataclasses.dataclass(eq=False)
class ImageFolderConfig(tfds.core.BuilderConfig):
    """Describes one image folder; build it with `image_folder_config(root, ...)`.

    Attributes:
      root: the folder.
      image_size: (h, w) every image is resized to, or () to keep the files' size.
      grayscale: one grey channel (else RGB).
      input_shape: per-example shape of the images, (h, w, 1) or (h, w, 3).
      splits: the splits the folder holds, e.g. ("train",) or ("train", "test").
      class_names: the class folders' names, sorted.
      first_file: the first image (relative to root), whose size the others must share
        without `image_size`.
    """

    root: str = ""
    image_size: tuple[int, ...] = ()
    grayscale: bool = False
    input_shape: tuple[int, ...] = ()
    splits: tuple[str, ...] = ()
    class_names: tuple[str, ...] = ()
    first_file: str = ""


def image_folder_config(
    root: str | os.PathLike, *, image_size: tuple[int, int] | None, grayscale: bool
) -> ImageFolderConfig:
    """Lists an image folder (`aelab.data.image_files`) and returns the config that names
    its prepared data.

    The config name is the folder's name plus a hash of every image's path, size and
    modification time and of the options, so a changed folder is prepared again.

    Raises:
      DataError: a missing folder, a bad layout, or an unreadable first image.
    """
    folder = list_image_folder(Path(root).expanduser().resolve())
    digest = hashlib.sha256(f"{image_size}|{grayscale}".encode())
    for split, files in folder.files.items():
        for relative, label in files:
            stat = (folder.root / relative).stat()
            digest.update(
                f"{split}|{relative}|{label}|{stat.st_size}|{stat.st_mtime_ns}\n".encode()
            )
    first_file = next(iter(folder.files.values()))[0][0]
    height, width = image_size or _size_of(folder, first_file)
    stem = re.sub(r"[^a-zA-Z0-9_]+", "_", folder.root.name).strip("_") or "images"
    return ImageFolderConfig(
        name=f"{stem}_{digest.hexdigest()[:16]}",
        description=f"Images from {folder.root}.",
        root=os.fspath(folder.root),
        image_size=tuple(image_size or ()),
        grayscale=grayscale,
        input_shape=(height, width, 1 if grayscale else 3),
        splits=tuple(folder.files),
        class_names=folder.class_names,
        first_file=first_file,
    )


def _size_of(folder: ImageFolder, relative: str) -> tuple[int, int]:
    return image_size(folder.root / relative)


class AelabImageFolder(tfds.core.GeneratorBasedBuilder):
    """A folder of images in class folders; see `aelab.data.image_files` for the layouts.

    Features: `image` uint8 `[h, w, c]` and `label` int64. Metadata: `value_max` 255,
    `num_classes` and `class_names`. Records come in TFDS's order (a hash of each
    file's path: the same on every preparation, and the classes mixed, so a slice such
    as `train[90%:]` holds every class), not the sorted order the files are read in.
    """

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES: ClassVar[dict[str, str]] = {"1.0.0": "First version."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = "Give the image folder in the builder config."

    def _info(self) -> tfds.core.DatasetInfo:
        config = self.builder_config
        if config is None:
            raise DataError(
                "AelabImageFolder needs a config: AelabImageFolder(config="
                "image_folder_config(root, ...), ...)."
            )
        features = {
            "image": array_feature(config.input_shape, np.uint8),
            "label": tfds.features.Tensor(shape=(), dtype=np.int64),
        }
        return tfds.core.DatasetInfo(
            builder=self,
            description=self.__doc__,
            features=tfds.features.FeaturesDict(features),
            metadata=tfds.core.MetadataDict(
                value_max=255,
                num_classes=len(config.class_names),
                class_names=list(config.class_names),
            ),
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager) -> dict[str, Any]:
        del dl_manager  # The config names the folder.
        folder = list_image_folder(self.builder_config.root)
        return {
            split: self._generate_examples(folder, files) for split, files in folder.files.items()
        }

    def _generate_examples(
        self, folder: ImageFolder, files: tuple[tuple[str, int], ...]
    ) -> Iterator[tuple[str, dict[str, np.ndarray]]]:
        config = self.builder_config
        size = tuple(config.image_size) or None
        for relative, label in files:
            image = read_image(folder.root / relative, grayscale=config.grayscale, size=size)
            if image.shape != tuple(config.input_shape):
                raise DataError(
                    f"Image folder {folder.root}: {relative} is {image.shape[1]}x{image.shape[0]} "
                    f"but {config.first_file} is {config.input_shape[1]}x"
                    f"{config.input_shape[0]} (width x height); set config.data.image_size "
                    "= (height, width) to resize every image."
                )
            yield relative, {"image": image, "label": np.int64(label)}
