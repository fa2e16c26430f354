"""A folder of image files, one sub-folder per class: finding the files (`list_image_folder`)
and decoding one with Pillow (`read_image`).

Two layouts:
  root/<split>/<class>/*.png   splits "train" (required), "validation", "test";
  root/<class>/*.png           no split folders: every image is in "train".
Classes are the class folders' names, sorted (over every split), numbered 0, 1, ...;
files are taken in sorted order. Hidden files and files of other types are skipped.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

from aelab.data.errors import DataError
from aelab.data.split_layout import NPZ_SPLITS

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


@dataclasses.dataclass(frozen=True)
class ImageFolder:
    """The images of a folder.

    Attributes:
      root: the folder.
      class_names: the class folders' names, sorted; label i is class_names[i].
      files: split -> ((path relative to root, label), ...), in sorted order.
    """

    root: Path
    class_names: tuple[str, ...]
    files: dict[str, tuple[tuple[str, int], ...]]


def _visible(folder: Path) -> list[Path]:
    return sorted(path for path in folder.iterdir() if not path.name.startswith("."))


def _images_of(folder: Path) -> list[Path]:
    images = [
        path
        for path in _visible(folder)
        if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES
    ]
    if not images:
        raise DataError(
            f"Image folder {folder} holds no images ({', '.join(IMAGE_SUFFIXES)}); add some "
            "or delete the folder."
        )
    return images


def _class_folders(folder: Path) -> list[Path]:
    classes = [path for path in _visible(folder) if path.is_dir()]
    if not classes:
        raise DataError(
            f"Image folder {folder} holds no class folders: expected <class>/*.png (one "
            "folder per class), optionally under train/, validation/ and test/."
        )
    return classes


def list_image_folder(root: str | os.PathLike) -> ImageFolder:
    """Finds the images of `root` in one of the layouts of the module docstring.

    Raises:
      DataError: a missing folder, no class folders, a class folder without images,
        or split folders mixed with others (or without train/).
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(
            f"Image folder {root} does not exist. Set config.data.path to a folder of "
            "<class>/*.png (or <split>/<class>/*.png); relative paths are taken from the "
            "data dir."
        )
    top = _class_folders(root)
    split_folders = [folder for folder in top if folder.name in NPZ_SPLITS]
    if split_folders:
        others = [folder.name for folder in top if folder.name not in NPZ_SPLITS]
        if others or not (root / "train").is_dir():
            raise DataError(
                f"Image folder {root} holds split folders {[f.name for f in split_folders]} "
                f"and also {others}: with split folders, expected only train/ (required), "
                "validation/ and test/, each holding one folder per class."
            )
        by_split = {folder.name: _class_folders(folder) for folder in split_folders}
    else:
        by_split = {"train": top}
    class_names = tuple(sorted({folder.name for split in by_split.values() for folder in split}))
    label = {name: index for index, name in enumerate(class_names)}
    files = {}
    for split in NPZ_SPLITS:
        if split in by_split:
            files[split] = tuple(
                (path.relative_to(root).as_posix(), label[folder.name])
                for folder in by_split[split]
                for path in _images_of(folder)
            )
    return ImageFolder(root, class_names, files)


def _open_error(path: Path, error: Exception) -> DataError:
    return DataError(
        f"Cannot read image {path}: {error}. The file is corrupt or not an image; replace "
        "or delete it."
    )


def image_size(path: str | os.PathLike) -> tuple[int, int]:
    """(height, width) of an image file, from its header only.

    Raises:
      DataError: an unreadable or corrupt file (the message names it).
    """
    try:
        with Image.open(path) as image:
            width, height = image.size
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise _open_error(Path(path), e) from None
    return height, width


def read_image(
    path: str | os.PathLike, *, grayscale: bool, size: tuple[int, int] | None
) -> np.ndarray:
    """Decodes an image file to uint8 `[h, w, 1]` (grayscale) or `[h, w, 3]` (RGB; alpha
    is dropped), resized to `size` = (h, w) with Pillow's bilinear filter when given.

    Raises:
      DataError: an unreadable or corrupt file (the message names it).
    """
    try:
        with warnings.catch_warnings():
            # A palette image with transparency warns on conversion; the alpha goes anyway.
            warnings.simplefilter("ignore", UserWarning)
            with Image.open(path) as image:
                image = image.convert("L" if grayscale else "RGB")
                if size is not None and image.size != (size[1], size[0]):
                    image = image.resize((size[1], size[0]), Image.Resampling.BILINEAR)
                array = np.asarray(image, dtype=np.uint8)
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise _open_error(Path(path), e) from None
    return array[:, :, None] if array.ndim == 2 else array
