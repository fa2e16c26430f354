"""The classic codecs: round trips, rate and quality ordering, and RD curve bookkeeping."""

import functools

import numpy as np
import pytest
from scipy import ndimage
from sklearn.datasets import load_digits

from aelab.core.registry import UnknownNameError
from aelab.evaluation.classic_codecs import CLASSIC_CODECS, rd_curve, tile, untile
from aelab.evaluation.image_quality import mean_finite_psnr, ms_ssim, psnr

CODECS = ["avif", "jpeg", "jpeg_xl", "webp"]


@functools.cache
def _digits(n: int = 100) -> np.ndarray:
    """scikit-learn's 8x8 digits, smoothly enlarged to MNIST's 28x28: uint8 [n, 28, 28, 1]."""
    small = load_digits().images[:n] / 16.0
    large = ndimage.zoom(small, (1, 3.5, 3.5), order=1)
    return np.round(255 * np.clip(large, 0, 1)).astype(np.uint8)[..., None]


def _colour_image() -> np.ndarray:
    """A smooth colour image, uint8 [24, 32, 3]."""
    rng = np.random.default_rng(0)
    image = ndimage.gaussian_filter(rng.random((24, 32, 3)), sigma=(3, 3, 0))
    return np.round(255 * (image - image.min()) / (image.max() - image.min())).astype(np.uint8)


def test_registry_holds_the_four_codecs_and_names_them_on_a_miss():
    assert CLASSIC_CODECS.names() == CODECS
    with pytest.raises(UnknownNameError, match="jpeg_xl"):
        CLASSIC_CODECS.get("jpeg2000")


@pytest.mark.parametrize("name", CODECS)
def test_higher_quality_costs_more_bits_and_gives_higher_psnr(name):
    codec = CLASSIC_CODECS.get(name)
    image = tile(_digits(16))  # 112x112: one file, so the rate reflects the coding
    low, high = codec.default_qualities[1], codec.default_qualities[-1]
    files = [codec.encode(image, quality) for quality in (low, high)]
    decoded = [codec.decode(data, channels=1) for data in files]
    for result in decoded:
        assert result.shape == image.shape and result.dtype == np.uint8
    assert len(files[1]) > len(files[0])
    low_psnr, high_psnr = psnr(image[None] / 255, np.stack(decoded) / 255)
    assert high_psnr > low_psnr + 5  # and both lossy: no perfect (infinite) score
    assert np.isfinite(high_psnr)


@pytest.mark.parametrize("name", CODECS)
def test_round_trips_keep_shape_and_dtype(name):
    codec = CLASSIC_CODECS.get(name)
    quality = codec.default_qualities[-1]
    colour = _colour_image()
    decoded = codec.decode(codec.encode(colour, quality))
    assert decoded.shape == colour.shape and decoded.dtype == np.uint8
    assert psnr(colour[None] / 255, decoded[None] / 255)[0] > 30
    grey = _digits(1)[0]
    for image in (grey, grey[..., 0]):  # [h, w, 1] and [h, w] both decode to [h, w, 1]
        decoded = codec.decode(codec.encode(image, quality), channels=1)
        assert decoded.shape == grey.shape and decoded.dtype == np.uint8


@pytest.mark.parametrize("name", ["avif", "jpeg", "jpeg_xl"])
def test_grey_images_are_coded_as_one_channel(name):
    codec = CLASSIC_CODECS.get(name)
    grey = _digits(1)[0]
    quality = codec.default_qualities[3]
    data = codec.encode(grey, quality)
    assert codec.decode(data).shape == (28, 28, 1)  # the file itself holds one channel
    assert codec.decode(codec.encode(np.repeat(grey, 3, axis=2), quality)).shape == (28, 28, 3)


def test_webp_has_no_grey_mode_so_grey_comes_back_as_luma():
    codec = CLASSIC_CODECS.get("webp")
    grey = _digits(1)[0]
    data = codec.encode(grey, 90)
    colour = codec.decode(data)
    assert colour.shape == (28, 28, 3)
    luma = codec.decode(data, channels=1)
    np.testing.assert_allclose(luma[..., 0], colour.mean(axis=2), atol=1)


def test_encode_and_decode_reject_what_they_cannot_code():
    codec = CLASSIC_CODECS.get("jpeg")
    grey = _digits(1)[0]
    with pytest.raises(ValueError, match="uint8 image"):
        codec.encode(grey.astype(np.float32), 50)
    with pytest.raises(ValueError, match="uint8 image"):
        codec.encode(np.zeros((8, 8, 2), np.uint8), 50)
    with pytest.raises(ValueError, match=r"quality=99 is outside its range \[1, 95\]"):
        codec.encode(grey, 99)
    with pytest.raises(ValueError, match="cannot turn a decoded 1-channel image into 3"):
        codec.decode(codec.encode(grey, 50), channels=3)


@pytest.mark.parametrize("n", [1, 7, 10, 16])
def test_tile_and_untile_round_trip_exactly(n):
    rng = np.random.default_rng(n)
    images = rng.integers(1, 256, size=(n, 5, 3, 2), dtype=np.uint8)  # no zero pixels
    grid = tile(images)
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    assert grid.shape == (rows * 5, cols * 3, 2)
    np.testing.assert_array_equal(untile(grid, n, 5, 3), images)
    assert np.count_nonzero(grid == 0) == (rows * cols - n) * 5 * 3 * 2  # empty cells are 0
    if n > 1:  # row by row: the second image sits right of the first
        np.testing.assert_array_equal(grid[:5, 3:6], images[1])


@pytest.mark.parametrize("tiled", [False, True])
def test_rd_curve_measures_what_it_says(tiled):
    codec = CLASSIC_CODECS.get("jpeg")
    images = _digits(5)
    (point,) = rd_curve(images, "jpeg", [40], tiled=tiled)
    if tiled:
        data = codec.encode(tile(images), 40)
        bits = 8 * len(data) / 5
        decoded = untile(codec.decode(data), 5, 28, 28)
    else:
        files = [codec.encode(image, 40) for image in images]
        bits = 8 * np.mean([len(data) for data in files])
        decoded = np.stack([codec.decode(data) for data in files])
    assert point["quality"] == 40
    assert point["bits_per_image"] == pytest.approx(bits)
    assert point["bits_per_pixel"] == pytest.approx(bits / 784)
    assert point["psnr"] == pytest.approx(mean_finite_psnr(psnr(images / 255, decoded / 255)))
    assert point["ms_ssim"] == pytest.approx(np.mean(ms_ssim(images / 255, decoded / 255)))
    assert 0 < point["ms_ssim"] < 1


@pytest.mark.parametrize("name", CODECS)
def test_tiling_amortises_headers_and_the_ladder_spans_low_to_high_quality(name):
    images = _digits(100)
    codec = CLASSIC_CODECS.get(name)
    quality = codec.default_qualities[len(codec.default_qualities) // 2]
    (per_image,) = rd_curve(images, name, [quality], tiled=False)
    (tiled,) = rd_curve(images, name, [quality], tiled=True)
    assert tiled["bits_per_image"] < per_image["bits_per_image"]
    ladder = rd_curve(images, name, tiled=True)
    assert [point["quality"] for point in ladder] == list(codec.default_qualities)
    assert ladder[-1]["psnr"] > ladder[0]["psnr"] + 10
    assert ladder[-1]["bits_per_image"] > ladder[0]["bits_per_image"]


def test_rd_curve_rejects_non_uint8_images_and_unknown_codecs():
    with pytest.raises(ValueError, match="uint8 images"):
        rd_curve(_digits(2) / 255.0, "jpeg", tiled=True)
    with pytest.raises(UnknownNameError, match="classic codec"):
        rd_curve(_digits(2), "png", tiled=True)
