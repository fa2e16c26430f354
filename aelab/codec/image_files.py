"""Images in and out of the codec's commands: a PNG, a folder of PNGs, or an .npz.

An .npz holds one array of images (uint8 [n, h, w] or [n, h, w, c], or floats in [0, 1]
which are rounded to 8 bits): its "images" entry, or its only entry. A folder's PNGs are
read in file-name order; decompressing to a folder writes 000000.png, 000001.png, ... in
that order.
"""

from __future__ import annotations

import os

import numpy as np
from PIL import Image


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Images in [0, 1] (values outside clipped) -> uint8, rounded to the nearest level."""
    return np.round(np.clip(images, 0.0, 1.0) * 255.0).astype(np.uint8)


def _as_uint8(images: np.ndarray, name: str) -> np.ndarray:
    if images.dtype == np.uint8:
        return images
    if np.issubdtype(images.dtype, np.floating):
        if images.size and (np.nanmin(images) < 0.0 or np.nanmax(images) > 1.0):
            raise ValueError(f"{name} holds floats outside [0, 1]; store uint8 images or [0, 1].")
        if not np.isfinite(images).all():
            raise ValueError(f"{name} holds NaN or infinite values.")
        return to_uint8(images)
    raise ValueError(f"{name} holds {images.dtype} values; store uint8 images or floats in [0, 1].")


def _read_png(path: str) -> np.ndarray:
    try:
        with Image.open(path) as picture:
            if picture.mode not in ("L", "RGB"):
                picture = picture.convert(
                    "L" if picture.mode in ("1", "I", "I;16", "LA") else "RGB"
                )
            array = np.asarray(picture)
    except (OSError, SyntaxError) as e:
        raise ValueError(f"{path} is not a readable PNG image ({e}).") from e
    return array[..., None] if array.ndim == 2 else array


def read_images(path: str) -> np.ndarray:
    """uint8 images [n, h, w, c] from a PNG, a folder of PNGs or an .npz (see module)."""
    if os.path.isdir(path):
        names = sorted(n for n in os.listdir(path) if n.lower().endswith(".png"))
        if not names:
            raise ValueError(f"The folder {path} has no .png files.")
        images = [_read_png(os.path.join(path, n)) for n in names]
        shapes = {im.shape for im in images}
        if len(shapes) > 1:
            raise ValueError(f"The PNGs in {path} differ in size: {sorted(shapes)}.")
        return np.stack(images)
    if not os.path.exists(path):
        raise ValueError(f"The input {path} does not exist.")
    if path.lower().endswith(".npz"):
        try:
            with np.load(path) as archive:
                keys = list(archive.keys())
                if "images" in keys:
                    images = archive["images"]
                elif len(keys) == 1:
                    images = archive[keys[0]]
                else:
                    raise ValueError(
                        f"{path} holds {', '.join(keys)}; name the images array 'images'."
                    )
        except (OSError, EOFError) as e:
            raise ValueError(f"{path} is not a readable .npz file ({e}).") from e
        images = _as_uint8(np.asarray(images), path)
        if images.ndim == 3:
            images = images[..., None]
        if images.ndim != 4:
            raise ValueError(f"{path} holds an array of shape {images.shape}; want [n, h, w(, c)].")
        return images
    if path.lower().endswith(".png"):
        return _read_png(path)[None]
    raise ValueError(f"The input {path} is not a .png file, a folder of them, or an .npz.")


def write_images(path: str, images: np.ndarray) -> list[str]:
    """Writes uint8 images [n, h, w, c] to `path`: an .npz ("images"), a .png (one image)
    or a folder (created) of numbered PNGs. Returns the files written."""
    if path.lower().endswith(".npz"):
        np.savez_compressed(path, images=images)
        return [path]
    squeeze = images.shape[-1] == 1
    pictures = [Image.fromarray(im[..., 0] if squeeze else im) for im in images]
    if path.lower().endswith(".png"):
        if len(pictures) != 1:
            raise ValueError(
                f"The file holds {len(pictures)} images; give a folder or an .npz as --output."
            )
        pictures[0].save(path)
        return [path]
    os.makedirs(path, exist_ok=True)
    written = []
    for i, picture in enumerate(pictures):
        written.append(os.path.join(path, f"{i:06d}.png"))
        picture.save(written[-1])
    return written
