"""The "image_folder" data set: class folders of image files, prepared through TFDS."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aelab.core.errors import ConfigError
from aelab.data import DataError, DatasetInfo, dataset_info, load_split
from aelab.data.image_folder import class_names


def _everything(source) -> dict[str, np.ndarray]:
    return source.get_batch(np.arange(len(source)))


def _write_png(path: Path, value: int, size=(6, 4), mode="L") -> None:
    """A flat image of grey level `value`, `size` = (width, height)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, value if mode == "L" else (value, value, value)).save(path)


def _classes_folder(root: Path, per_class: dict[str, list[int]], **kwargs) -> Path:
    """root/<class>/<i>.png of the given grey levels."""
    for name, values in per_class.items():
        for index, value in enumerate(values):
            _write_png(root / name / f"{index:02d}.png", value, **kwargs)
    return root


def test_split_folders_give_splits_labels_and_class_names(make_config, tmp_path: Path):
    root = tmp_path / "pets"
    _classes_folder(root / "train", {"dog": [10, 11, 12], "cat": [20, 21]})
    _classes_folder(root / "test", {"cat": [30], "emu": [40]})
    config = make_config("image_folder", path=str(root), grayscale=True)

    train, info = load_split(config, "train")
    test, _ = load_split(config, "test")

    assert info == DatasetInfo(
        name="image_folder",
        input_key="image",
        input_shape=(4, 6, 1),
        value_max=255.0,
        num_classes=3,
        splits={"train": 5, "test": 2},
    )
    assert class_names(config) == ("cat", "dog", "emu")
    read = _everything(train)
    # The grey level says which file a record came from: (class, level) pairs survive.
    pairs = sorted(zip(read["label"].tolist(), read["image"][:, 0, 0, 0].tolist(), strict=True))
    assert pairs == [(0, 20), (0, 21), (1, 10), (1, 11), (1, 12)]
    assert np.all(read["image"] == read["image"][:, :1, :1])  # Flat images, as written.
    test_pairs = sorted(
        zip(*(_everything(test)[k].tolist() for k in ("label", "image")), strict=True)
    )
    assert [(label, image[0][0][0]) for label, image in test_pairs] == [(0, 30), (2, 40)]


def test_class_folders_alone_are_the_train_split_and_slice(make_config, tmp_path: Path):
    root = _classes_folder(tmp_path / "shapes", {"a": list(range(0, 50, 5)), "b": [100] * 10})
    config = make_config("image_folder", path=str(root))

    info = dataset_info(config)
    head = _everything(load_split(config, "train[:90%]")[0])
    tail = _everything(load_split(config, "train[90%:]")[0])
    again = _everything(load_split(config, "train[90%:]")[0])

    assert info.splits == {"train": 20} and info.input_shape == (4, 6, 3)
    assert (len(head["label"]), len(tail["label"])) == (18, 2)
    np.testing.assert_array_equal(tail["image"], again["image"])  # A fixed order.
    levels = np.concatenate([head["image"], tail["image"]])[:, 0, 0, 0]
    assert sorted(levels.tolist()) == sorted([*range(0, 50, 5), *[100] * 10])
    with pytest.raises(DataError, match=r"Cannot read split 'test' (?s:.*)Its splits: \['train'\]"):
        load_split(config, "test")


def test_image_size_resizes_mixed_sizes_and_jpegs_are_read(make_config, tmp_path: Path):
    root = tmp_path / "mixed"
    _write_png(root / "x" / "small.png", 50, size=(3, 3))
    _write_png(root / "x" / "large.png", 200, size=(9, 5))
    (root / "y").mkdir()
    Image.new("RGB", (7, 7), (255, 0, 0)).save(root / "y" / "red.jpg")
    config = make_config("image_folder", path=str(root), image_size=(4, 5))

    read = _everything(load_split(config, "train")[0])

    assert read["image"].shape == (3, 4, 5, 3)
    red = read["image"][read["label"] == 1][0]
    assert red[..., 0].min() > 240 and red[..., 1:].max() < 15  # JPEG-close to pure red.


def test_mixed_sizes_without_image_size_name_two_files(make_config, tmp_path: Path):
    root = tmp_path / "mixed"
    _write_png(root / "x" / "a.png", 50, size=(3, 3))
    _write_png(root / "x" / "b.png", 50, size=(4, 3))
    with pytest.raises(DataError) as error:
        dataset_info(make_config("image_folder", path=str(root)))
    message = str(error.value)
    assert "x/b.png is 4x3 but x/a.png is 3x3" in message and "image_size" in message


def test_a_changed_folder_is_prepared_again(make_config, tmp_path: Path):
    root = _classes_folder(tmp_path / "grow", {"a": [1, 2]})
    config = make_config("image_folder", path=str(root))
    assert dataset_info(config).splits == {"train": 2}
    _write_png(root / "a" / "new.png", 3)
    assert dataset_info(config).splits == {"train": 3}


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda root: None, "does not exist"),
        (lambda root: root.mkdir(), "holds no class folders"),
        (lambda root: (root / "cat").mkdir(parents=True), r"cat holds no images \(.png"),
        (
            lambda root: (
                (root / "cat").mkdir(parents=True) or (root / "cat" / "notes.txt").write_text("hi")
            ),
            "holds no images",
        ),
        (
            lambda root: (
                (root / "cat").mkdir(parents=True)
                or (root / "cat" / "broken.png").write_bytes(b"not a png at all")
            ),
            r"Cannot read image .*cat/broken\.png",
        ),
        (
            lambda root: (
                _classes_folder(root / "train", {"a": [1]})
                and _classes_folder(root / "other", {"b": [1]})
            ),
            r"split folders \['train'\] and also \['other'\]",
        ),
    ],
)
def test_bad_folders_are_one_clear_line(make_config, tmp_path: Path, make, message: str):
    root = tmp_path / "bad"
    make(root)
    with pytest.raises(DataError, match=message) as error:
        dataset_info(make_config("image_folder", path=str(root)))
    assert str(root) in str(error.value)


def test_image_size_must_be_height_and_width(make_config, tmp_path: Path):
    root = _classes_folder(tmp_path / "ok", {"a": [1]})
    with pytest.raises(ConfigError, match=r"image_size=\(4, 4, 4\) is not valid"):
        dataset_info(make_config("image_folder", path=str(root), image_size=(4, 4, 4)))


@pytest.mark.slow  # a whole tiny run with a fresh compile: ~10 s on a shared 2-core CPU
def test_the_quickstart_vae_trains_on_an_image_folder(tmp_path: Path, tiny_config):
    from aelab.evaluation import train_and_evaluate

    rng = np.random.default_rng(0)
    root = tmp_path / "digits"
    for split, count in (("train", 24), ("test", 8)):
        for index in range(count):
            path = root / split / f"class_{index % 2}" / f"{index:03d}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8)).save(path)
    tiny_config.data.name = "image_folder"
    tiny_config.data.path = str(root)
    tiny_config.data.grayscale = True
    tiny_config.data.tfds_data_dir = str(tmp_path / "tfds")
    tiny_config.data.eval_batch_size = 8
    workdir = str(tmp_path / "run")

    train_and_evaluate(tiny_config, workdir)

    with open(os.path.join(workdir, "run_info.json")) as f:
        assert json.load(f)["final_step"] == tiny_config.train.num_steps
