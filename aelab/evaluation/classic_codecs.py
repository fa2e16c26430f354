"""The classic lossy image codecs a learned codec is compared with, and their RD curves.

Each codec in `CLASSIC_CODECS` codes one uint8 image [h, w, c] (c = 1 or 3) at a quality
setting (higher is better) and reports the bytes of the whole file, headers included:

  jpeg     baseline JPEG, libjpeg-turbo      Pillow        quality 1-95, optimize=True
  webp     lossy WebP (VP8), libwebp         Pillow        quality 0-100, method=6
  jpeg_xl  JPEG XL (VarDCT), libjxl          imagecodecs   quality 0-100 (libjxl's map
                                                           to a distance), effort 7
  avif     AVIF (AV1 intra), libavif/aom     imagecodecs   quality 0-99, speed 6

Grey images are coded as one channel where the format has one: JPEG, JPEG XL and AVIF
(4:0:0). WebP's lossy format is always 4:2:0 colour, so a grey image goes in as three
equal channels (the chroma planes are flat and cost a few bytes) and comes back as luma.
Colour JPEG uses Pillow's default 4:2:0 chroma subsampling, colour AVIF 4:4:4.

`rd_curve` measures a codec over a quality ladder, either per image (each image its own
file: what storing or sending one image costs) or tiled (all images in one near-square
mosaic, coded once: the headers are shared and the codec's prediction and context
modelling see more data, the classic codecs' best case on tiny images such as 28x28
digits, whose per-image files are mostly header).
"""

from __future__ import annotations

import dataclasses
import io
import math
from collections.abc import Callable, Sequence

import numpy as np
from PIL import Image

from aelab.core.registry import Registry
from aelab.evaluation.image_quality import eight_bit_quality

# The luma weights (ITU-R BT.601) that Pillow's "L" conversion and WebP's encoder use.
_LUMA = np.array([0.299, 0.587, 0.114])


@dataclasses.dataclass(frozen=True)
class ClassicCodec:
    """One codec: `encode(image, quality) -> bytes` and `decode(data) -> image`.

    Attributes:
      name: the registry name.
      default_qualities: the quality ladder `rd_curve` uses when given none, low to high,
        chosen on 28x28 MNIST digits (tiled) to run from the codec's lowest useful quality
        (19 dB for JPEG, 20-23 dB for the others: none goes lower) to about 40 dB PSNR.
      quality_range: the lowest and highest quality `encode` accepts.
      encoder: (image [h, w, c] uint8 with c = 1 or 3, quality) -> the file's bytes.
      decoder: the file's bytes -> the image as the format stores it, [h, w] or [h, w, c].
    """

    name: str
    default_qualities: tuple[float, ...]
    quality_range: tuple[float, float]
    encoder: Callable[[np.ndarray, float], bytes]
    decoder: Callable[[bytes], np.ndarray]

    def encode(self, image: np.ndarray, quality: float) -> bytes:
        """The file for image [h, w] or [h, w, c] (uint8, c = 1 or 3) at `quality`."""
        image = np.asarray(image)
        if image.ndim == 2:
            image = image[..., None]
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] not in (1, 3):
            raise ValueError(
                f"{self.name}: encode needs a uint8 image [h, w, 1] or [h, w, 3] (or [h, w]); "
                f"got {image.dtype} {image.shape}."
            )
        low, high = self.quality_range
        if not low <= quality <= high:
            raise ValueError(
                f"{self.name}: quality={quality} is outside its range [{low:g}, {high:g}]."
            )
        return bytes(self.encoder(np.ascontiguousarray(image), quality))

    def decode(self, data: bytes, channels: int | None = None) -> np.ndarray:
        """The decoded image [h, w, c], uint8.

        c is the number of channels the file holds (1 for a grey JPEG, JPEG XL or AVIF; a
        [h, w] image comes back as [h, w, 1]), or `channels` when given: WebP files are
        always colour, so pass `channels=1` to get a grey image back as its luma.
        """
        image = np.asarray(self.decoder(data))
        if image.ndim == 2:
            image = image[..., None]
        if channels is None or channels == image.shape[2]:
            return image
        if channels == 1 and image.shape[2] == 3:
            return np.round(image @ _LUMA).astype(np.uint8)[..., None]
        raise ValueError(
            f"{self.name}: cannot turn a decoded {image.shape[2]}-channel image into "
            f"{channels} channels; give channels=None, 1 or {image.shape[2]}."
        )


CLASSIC_CODECS: Registry[ClassicCodec] = Registry("classic codec")


def _pillow_encode(image: np.ndarray, format_: str, **options) -> bytes:
    """The file Pillow writes for image [h, w, c] (c = 1: mode "L", c = 3: "RGB")."""
    buffer = io.BytesIO()
    Image.fromarray(image[..., 0] if image.shape[2] == 1 else image).save(
        buffer, format=format_, **options
    )
    return buffer.getvalue()


def _pillow_decode(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image)


def _jpeg_encode(image: np.ndarray, quality: float) -> bytes:
    return _pillow_encode(image, "JPEG", quality=round(quality), optimize=True)


def _webp_encode(image: np.ndarray, quality: float) -> bytes:
    # Lossy WebP has no grey mode; Pillow would convert "L" to "RGB" itself, done here openly.
    rgb = np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image
    return _pillow_encode(rgb, "WEBP", quality=float(quality), method=6, lossless=False)


def _jpeg_xl_encode(image: np.ndarray, quality: float) -> bytes:
    # imagecodecs is imported when used: every evaluation module is imported with the
    # package, and only these two codecs need it.
    import imagecodecs

    # effort 7 is libjxl's own default (imagecodecs defaults to 5 for speed).
    pixels = image[..., 0] if image.shape[2] == 1 else image
    return imagecodecs.jpegxl_encode(pixels, level=float(quality), effort=7)


def _jpeg_xl_decode(data: bytes) -> np.ndarray:
    import imagecodecs

    return imagecodecs.jpegxl_decode(data)


def _avif_encode(image: np.ndarray, quality: float) -> bytes:
    import imagecodecs

    # imagecodecs (2026.3.6) codes single-channel input losslessly whatever `level` says,
    # so a grey image goes in as RGB with 4:0:0 output: libavif keeps only the luma
    # plane, which for R = G = B is the grey value itself (full range, BT.601).
    if image.shape[2] == 1:
        return imagecodecs.avif_encode(
            np.repeat(image, 3, axis=2), level=round(quality), speed=6, pixelformat="yuv400"
        )
    return imagecodecs.avif_encode(image, level=round(quality), speed=6, pixelformat="yuv444")


def _avif_decode(data: bytes) -> np.ndarray:
    import imagecodecs

    return imagecodecs.avif_decode(data)


for _codec in (
    ClassicCodec(
        name="jpeg",
        default_qualities=(1, 3, 5, 10, 20, 30, 50, 70, 85, 90),
        quality_range=(1, 95),
        encoder=_jpeg_encode,
        decoder=_pillow_decode,
    ),
    ClassicCodec(
        name="webp",
        default_qualities=(0, 1, 3, 5, 10, 20, 30, 50, 70, 85),
        quality_range=(0, 100),
        encoder=_webp_encode,
        decoder=_pillow_decode,
    ),
    ClassicCodec(
        name="jpeg_xl",
        default_qualities=(0, 5, 10, 15, 20, 30, 45, 60, 70, 80),
        quality_range=(0, 100),
        encoder=_jpeg_xl_encode,
        decoder=_jpeg_xl_decode,
    ),
    ClassicCodec(
        name="avif",
        default_qualities=(5, 8, 12, 16, 20, 25, 30, 35, 45, 55),
        quality_range=(0, 99),  # 100 switches imagecodecs to lossless 4:4:4
        encoder=_avif_encode,
        decoder=_avif_decode,
    ),
):
    CLASSIC_CODECS.register(_codec.name)(_codec)


def tile(images: np.ndarray) -> np.ndarray:
    """The images [n, h, w, c] as one grid [rows * h, cols * w, c], row by row.

    cols = ceil(sqrt(n)), rows = ceil(n / cols); the cells after the last image are 0.
    """
    n, height, width, channels = images.shape
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    cells = np.zeros((rows * cols, height, width, channels), images.dtype)
    cells[:n] = images
    grid = cells.reshape(rows, cols, height, width, channels).transpose(0, 2, 1, 3, 4)
    return grid.reshape(rows * height, cols * width, channels)


def untile(grid: np.ndarray, n: int, height: int, width: int) -> np.ndarray:
    """The first n images [n, height, width, c] of a grid [rows * height, cols * width, c]
    made by `tile`."""
    rows, cols = grid.shape[0] // height, grid.shape[1] // width
    cells = grid.reshape(rows, height, cols, width, grid.shape[2]).transpose(0, 2, 1, 3, 4)
    return cells.reshape(rows * cols, height, width, grid.shape[2])[:n]


def _code_images(
    codec: ClassicCodec, images: np.ndarray, quality: float, tiled: bool
) -> tuple[float, np.ndarray]:
    """(mean bits per image, decoded images [n, h, w, c]) for images [n, h, w, c]."""
    n, height, width, channels = images.shape
    if tiled:
        data = codec.encode(tile(images), quality)
        decoded = untile(codec.decode(data, channels), n, height, width)
        return 8.0 * len(data) / n, decoded
    files = [codec.encode(image, quality) for image in images]
    decoded = np.stack([codec.decode(data, channels) for data in files])
    return 8.0 * float(np.mean([len(data) for data in files])), decoded


def rd_curve(
    images: np.ndarray,
    codec_name: str,
    qualities: Sequence[float] | None = None,
    *,
    tiled: bool,
) -> list[dict[str, float]]:
    """The rate-distortion points of one codec on images [n, h, w, c] (uint8).

    One dict per quality (the codec's `default_qualities` when None), in the given order:

      quality         the codec setting
      bits_per_image  per image: the mean over images of 8 * file bytes, headers included;
                      tiled: 8 * the bytes of the one mosaic file (`tile`) / n
      bits_per_pixel  bits_per_image / (h * w)
      psnr            mean over images of the PSNR (dB) of the decoded images in [0, 1]
                      against the originals (`mean_finite_psnr`: a perfect image counts
                      as 100 dB)
      ms_ssim         mean over images of `ms_ssim` (as many scales as fit: 2 for 28x28)
    """
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4:
        raise ValueError(
            f"rd_curve needs uint8 images [n, h, w, c]; got {images.dtype} {images.shape}."
        )
    codec = CLASSIC_CODECS.get(codec_name)
    pixels = images.shape[1] * images.shape[2]
    points = []
    for quality in codec.default_qualities if qualities is None else qualities:
        bits, decoded = _code_images(codec, images, quality, tiled)
        points.append(
            {
                "quality": quality,
                "bits_per_image": bits,
                "bits_per_pixel": bits / pixels,
                **eight_bit_quality(images, decoded),
            }
        )
    return points
