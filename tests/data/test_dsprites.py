"""dSprites generated from its factors: counts, determinism, the index <-> factor map,
the sprites, the original-file reader and the errors."""

import zipfile

import ml_collections
import numpy as np
import pytest

from aelab.data import DataError, dataset_info, dsprites, dsprites_file, load_split
from aelab.data.dsprites import FULL_SIZES, generated_images
from aelab.data.dsprites_file import read_dsprites_file
from aelab.data.factors import FactorSource
from aelab.data.sprite_shapes import SHAPES, render_sprite


def _config(name="dsprites", **fields):
    return ml_collections.ConfigDict({"name": name, "data_dir": None, **fields})


def test_split_sizes_add_up_to_the_grid():
    info = dataset_info(_config())
    assert info.splits == {"train": 663_552, "test": 73_728}
    assert sum(info.splits.values()) == 737_280 == np.prod(FULL_SIZES)
    assert info.input_shape == (64, 64, 1) and info.value_max == 1.0 and info.num_classes == 3
    assert len(load_split(_config(), "all")[0]) == 737_280
    small = dataset_info(_config("dsprites_small"))
    assert sum(small.splits.values()) == 3 * 3 * 4 * 8 * 8


def test_train_and_test_are_disjoint_and_cover_everything():
    source, _ = load_split(_config("dsprites_small"), "train+test")
    factors = source.get_batch(np.arange(len(source)))["factors"]
    indices = np.ravel_multi_index(tuple(factors.T), source.factor_sizes)
    assert sorted(indices.tolist()) == list(range(2304))


def test_records_are_binary_images_labelled_by_shape():
    source, _ = load_split(_config(), "test")
    batch = source.get_batch(np.arange(64))
    assert batch["image"].dtype == np.uint8 and batch["image"].shape == (64, 64, 64, 1)
    assert set(np.unique(batch["image"])) == {0, 1}
    np.testing.assert_array_equal(batch["label"], batch["factors"][:, 0])
    assert batch["factors"].shape == (64, 5) and batch["factor_values"].shape == (64, 5)
    one = source[3]
    np.testing.assert_array_equal(one["image"], batch["image"][3])
    assert one["factors"].shape == (5,)


def test_two_builds_are_equal():
    first, _ = load_split(_config(), "train[:200]")
    a = first.get_batch(np.arange(200))
    dsprites.sprites.cache_clear()  # render the sprites again
    second, _ = load_split(_config(), "train[:200]")
    b = second.get_batch(np.arange(200))
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def test_index_is_ravel_multi_index_of_the_factors():
    source, _ = load_split(_config(), "all")
    indices = np.array([0, 1, 31, 32, 1023, 1024, 40_959, 40_960, 737_279])
    factors = source.get_batch(indices)["factors"]
    np.testing.assert_array_equal(np.ravel_multi_index(tuple(factors.T), FULL_SIZES), indices)
    np.testing.assert_array_equal(factors[-1], [2, 5, 39, 31, 31])
    values = source.get_batch(np.array([737_279]))["factor_values"][0]
    np.testing.assert_allclose(values, [3.0, 1.0, 2 * np.pi * 39 / 40, 1.0, 1.0], rtol=1e-6)


def test_one_position_step_shifts_the_image_by_one_pixel():
    base = np.array([[2, 3, 17, 10, 20]])
    image = generated_images(base)[0, ..., 0]
    right = generated_images(base + np.array([0, 0, 0, 1, 0]))[0, ..., 0]
    down = generated_images(base + np.array([0, 0, 0, 0, 1]))[0, ..., 0]
    np.testing.assert_array_equal(right[:, 1:], image[:, :-1])
    np.testing.assert_array_equal(down[1:], image[:-1])
    assert not np.array_equal(right, image)


def test_the_small_grid_serves_images_of_the_full_grid():
    small, _ = load_split(_config("dsprites_small"), "all")
    batch = small.get_batch(np.array([0, 100, 2303]))
    full = generated_images(batch["factors"] * [1, 2, 10, 4, 4])
    np.testing.assert_array_equal(batch["image"], full)
    np.testing.assert_array_equal(batch["factors"][-1], [2, 2, 3, 7, 7])


def test_shapes_differ_and_scale_grows_the_area():
    areas = {}
    for shape in SHAPES:
        areas[shape] = [render_sprite(shape, s, 0.3).sum() for s in np.linspace(0.5, 1, 6)]
        assert np.all(np.diff(areas[shape]) > 0), (shape, areas[shape])
    sprites = [render_sprite(shape, 1.0, 0.0) for shape in SHAPES]
    for i in range(3):
        for j in range(i):
            assert (sprites[i] != sprites[j]).sum() > 20
    square = render_sprite("square", 1.0, 0.0)
    assert np.array_equal(square, np.rot90(square))  # a square is symmetric under 90 degrees
    assert not np.array_equal(render_sprite("heart", 1.0, 0.0), render_sprite("heart", 1.0, np.pi))


def test_the_source_makes_records_of_chosen_factors():
    source, _ = load_split(_config("dsprites_small"), "test")
    assert isinstance(source, FactorSource)
    assert source.factor_sizes == (3, 3, 4, 8, 8)
    factors = np.array([[0, 0, 0, 0, 0], [2, 1, 3, 7, 0], [2, 1, 3, 7, 0]])
    records = source.records_of_factors(factors)
    np.testing.assert_array_equal(records["factors"], factors)
    np.testing.assert_array_equal(records["label"], [0, 2, 2])
    np.testing.assert_array_equal(records["image"][1], records["image"][2])
    full = load_split(_config(), "all")[0].records_of_factors(factors * [1, 2, 10, 4, 4])
    np.testing.assert_array_equal(records["image"], full["image"])
    with pytest.raises(ValueError, match="out of range"):
        source.records_of_factors(np.array([[3, 0, 0, 0, 0]]))
    with pytest.raises(ValueError, match=r"integer classes \[n, 5\]"):
        source.records_of_factors(np.zeros((2, 4), np.int64))


def _write_fake_file(path, latent_sizes, *, imgs_shape=None, shuffle=False):
    n = int(np.prod(latent_sizes))
    classes = np.stack(np.unravel_index(np.arange(n), latent_sizes), axis=1)
    if shuffle:
        classes = classes[::-1]
    imgs = (np.random.default_rng(0).random((n, 64, 64)) > 0.7).astype(np.uint8)
    if imgs_shape is not None:
        imgs = np.zeros(imgs_shape, np.uint8)
    np.savez_compressed(path, imgs=imgs, latents_classes=classes, latents_values=classes * 1.0)
    return imgs


def test_the_original_file_reader_on_a_tiny_file(tmp_path):
    sizes = (1, 3, 1, 2, 2, 1)
    imgs = _write_fake_file(tmp_path / "tiny.npz", sizes)
    packed = read_dsprites_file(tmp_path / "tiny.npz", sizes)
    assert packed.shape == (12, 512)
    np.testing.assert_array_equal(np.unpackbits(packed, axis=1).reshape(12, 64, 64), imgs)


def test_the_original_file_reader_refuses_wrong_files(tmp_path):
    sizes = (1, 3, 1, 2, 2, 1)
    _write_fake_file(tmp_path / "small.npz", sizes, imgs_shape=(12, 32, 32))
    expected = r"'imgs' has shape \(12, 32, 32\), expected \(12, 64, 64\)"
    with pytest.raises(DataError, match=expected):
        read_dsprites_file(tmp_path / "small.npz", sizes)
    _write_fake_file(tmp_path / "order.npz", sizes, shuffle=True)
    with pytest.raises(DataError, match="not the factor grid in index order"):
        read_dsprites_file(tmp_path / "order.npz", sizes)
    with pytest.raises(DataError, match=r"'latents_classes' has shape \(12, 6\), expected"):
        read_dsprites_file(tmp_path / "small.npz")  # the original's sizes
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(DataError, match="has no array 'latents_classes'"):
        read_dsprites_file(tmp_path / "other.npz", sizes)
    (tmp_path / "broken.npz").write_text("not a zip")
    with pytest.raises(DataError, match="Cannot read the dSprites file"):
        read_dsprites_file(tmp_path / "broken.npz", sizes)
    assert zipfile.is_zipfile(tmp_path / "small.npz")


def test_a_missing_original_file_is_one_line_naming_the_fix(tmp_path):
    config = _config(images="original", path=str(tmp_path / "missing.npz"))
    with pytest.raises(DataError, match=r"does not exist: download .*images='generated'") as error:
        dataset_info(config)
    assert "\n" not in str(error.value)
    with pytest.raises(DataError, match=r"dsprites/dsprites_ndarray_\w+_64x64\.npz"):
        dataset_info(_config(images="original", data_dir=str(tmp_path)))


class _PackedGenerated:
    """Stands in for the original file's bit-packed images [737280, 512]: the generated
    image of each index, packed."""

    def __getitem__(self, indices):
        factors = np.stack(np.unravel_index(indices, FULL_SIZES), axis=1)
        return np.packbits(generated_images(factors).reshape(len(indices), -1), axis=1)


def test_images_original_reads_the_file_by_index(tmp_path, monkeypatch):
    (tmp_path / "dsprites").mkdir()
    (tmp_path / "dsprites" / dsprites_file.FILE_NAME).write_bytes(b"")
    monkeypatch.setattr(dsprites_file, "read_dsprites_file", lambda path: _PackedGenerated())
    for name in ("dsprites", "dsprites_small"):
        original, _ = load_split(_config(name, images="original", data_dir=str(tmp_path)), "test")
        generated, _ = load_split(_config(name), "test")
        assert "dsprites_ndarray" in repr(original)
        indices = np.arange(0, len(original), len(original) // 50)
        a, b = original.get_batch(indices), generated.get_batch(indices)
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])
