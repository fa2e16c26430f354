"""The original dSprites file, `dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz`
(Matthey et al. 2017), read into memory as bit-packed images.

The file's `imgs` are 737,280 x 64 x 64 bytes (3 GB) once decompressed; they are read
from the zip member in chunks and packed 8 pixels to a byte (377 MB), so the whole array
never exists at once. `latents_classes` must be the full factor grid in index order
(`np.ravel_multi_index` over color, shape, scale, orientation, x, y), which the records
are indexed by.
"""

from __future__ import annotations

import functools
import zipfile
from pathlib import Path

import numpy as np

from aelab.data.errors import DataError

FILE_NAME = "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
# color, shape, scale, orientation, position x, position y
LATENT_SIZES = (1, 3, 6, 40, 32, 32)
IMAGE_SIZE = 64
_CHUNK = 16_384  # images decompressed at a time


def _array_names(archive: zipfile.ZipFile) -> list[str]:
    return [name.removesuffix(".npy") for name in archive.namelist()]


def _member_header(archive: zipfile.ZipFile, key: str, path: Path):
    """The opened `.npy` member `key` and its (shape, fortran order, dtype)."""
    name = f"{key}.npy"
    if name not in archive.namelist():
        raise DataError(
            f"{path} has no array {key!r} (it has {sorted(_array_names(archive))}); "
            f"expected the original dSprites file {FILE_NAME}."
        )
    member = archive.open(name)
    version = np.lib.format.read_magic(member)
    read_header = (
        np.lib.format.read_array_header_1_0
        if version == (1, 0)
        else np.lib.format.read_array_header_2_0
    )
    return member, read_header(member)


def _check_shape(key: str, shape, expected, path: Path) -> None:
    if tuple(shape) != tuple(expected):
        raise DataError(
            f"{path}: {key!r} has shape {tuple(shape)}, expected {tuple(expected)} as in the "
            f"original dSprites file {FILE_NAME}; download that file again."
        )


@functools.cache
def read_dsprites_file(path: Path, latent_sizes: tuple[int, ...] = LATENT_SIZES) -> np.ndarray:
    """The original file's images, bit-packed: uint8 [737280, 512] (`np.unpackbits(...,
    axis=1)` gives the 64 x 64 pixels of each, in {0, 1}), in index order.

    Args:
      path: the `.npz` file.
      latent_sizes: the factor grid the file must hold (color, shape, scale,
        orientation, x, y); the original's unless a test writes a smaller file.

    Raises:
      DataError: a missing or unreadable file, a missing array, wrong shapes, or
        `latents_classes` not in index order.
    """
    num_images = int(np.prod(latent_sizes))
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as e:
        raise DataError(
            f"Cannot read the dSprites file {path}: {e}. Set config.data.path to the "
            f"original {FILE_NAME}, or config.data.images='generated'."
        ) from None
    with archive:
        member, (shape, _, _) = _member_header(archive, "latents_classes", path)
        _check_shape("latents_classes", shape, (num_images, len(latent_sizes)), path)
        member.close()
        with np.load(path) as arrays:
            classes = arrays["latents_classes"]
        expected = np.stack(np.unravel_index(np.arange(num_images), latent_sizes), axis=1)
        if not np.array_equal(classes, expected):
            raise DataError(
                f"{path}: 'latents_classes' is not the factor grid in index order of the "
                f"original {FILE_NAME}; download that file again."
            )
        member, (shape, fortran, dtype) = _member_header(archive, "imgs", path)
        _check_shape("imgs", shape, (num_images, IMAGE_SIZE, IMAGE_SIZE), path)
        if fortran or dtype.itemsize != 1:
            raise DataError(
                f"{path}: 'imgs' is {dtype} in {'Fortran' if fortran else 'C'} order; "
                f"expected C-ordered uint8 as in the original {FILE_NAME}."
            )
        packed = np.empty((num_images, IMAGE_SIZE * IMAGE_SIZE // 8), np.uint8)
        pixels = IMAGE_SIZE * IMAGE_SIZE
        with member:
            for start in range(0, num_images, _CHUNK):
                count = min(_CHUNK, num_images - start)
                chunk = np.frombuffer(member.read(count * pixels), np.uint8)
                if chunk.size != count * pixels:
                    raise DataError(f"{path}: 'imgs' ends early; download {FILE_NAME} again.")
                bits = chunk.reshape(count, pixels) > 0
                packed[start : start + count] = np.packbits(bits, axis=1)
    packed.setflags(write=False)
    return packed
