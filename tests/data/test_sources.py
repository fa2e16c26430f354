"""The public API: load_split / dataset_info over every kind of registered data set."""

from __future__ import annotations

import logging
import pickle
import re
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

from aelab.core.errors import ConfigError
from aelab.core.registry import UnknownNameError
from aelab.data import (
    DataError,
    DatasetInfo,
    builders,
    dataset_info,
    list_datasets,
    load_split,
    local_files,
    records,
)
from tests.data import raw_files


def _sorted_rows(batch: dict[str, np.ndarray]) -> np.ndarray:
    """All of a batch's values, one row per record, in lexicographic order."""
    rows = np.concatenate(
        [np.asarray(v, np.float64).reshape(len(v), -1) for _, v in sorted(batch.items())], axis=1
    )
    return rows[np.lexsort(rows.T[::-1])]


def _everything(source) -> dict[str, np.ndarray]:
    return source.get_batch(np.arange(len(source)))


def test_list_datasets():
    assert list_datasets() == [
        "arrays",
        "binarized_mnist",
        "digits",
        "dsprites",
        "dsprites_small",
        "ecg5000",
        "fashion_mnist",
        "image_folder",
        "mnist",
        "npz",
        "table",
    ]


def test_unknown_name_lists_valid_names(make_config):
    with pytest.raises(UnknownNameError) as error:
        load_split(make_config("mnsit"), "train")
    message = str(error.value)
    assert "'mnsit'" in message
    assert all(name in message for name in list_datasets())
    assert "tfds:<name>" in message


def test_digits_splits_and_values(make_config):
    expected_sizes = {"train": 1437, "test": 360, "validation": 144, "all": 1797}
    for split, size in expected_sizes.items():
        source, info = load_split(make_config("digits"), split)
        batch = _everything(source)
        assert len(source) == size
        assert batch["image"].dtype == np.uint8 and batch["image"].shape == (size, 8, 8, 1)
        assert batch["image"].min() == 0 and batch["image"].max() == 16
        assert batch["label"].dtype == np.int64 and set(batch["label"]) == set(range(10))
    assert info == DatasetInfo(
        name="digits",
        input_key="image",
        input_shape=(8, 8, 1),
        value_max=16.0,
        num_classes=10,
        splits={"train": 1437, "test": 360},
    )
    assert dataset_info(make_config("digits")) == info


def test_digits_split_is_the_documented_permutation(make_config):
    digits = load_digits()
    order = np.random.default_rng(0).permutation(1797)
    test, _ = load_split(make_config("digits"), "test")
    train, _ = load_split(make_config("digits"), "train")

    np.testing.assert_array_equal(
        test.get_batch(np.arange(360))["label"], digits.target[order[:360]]
    )
    np.testing.assert_array_equal(
        train.get_batch(np.arange(1437))["image"][..., 0], digits.images[order[360:]]
    )


def test_digits_slices(make_config):
    train = _everything(load_split(make_config("digits"), "train")[0])
    head = _everything(load_split(make_config("digits"), "train[:90%]")[0])
    validation = _everything(load_split(make_config("digits"), "validation")[0])
    both = _everything(load_split(make_config("digits"), "train[:90%] + validation")[0])
    last = _everything(load_split(make_config("digits"), "test[-10:]")[0])
    test = _everything(load_split(make_config("digits"), "test")[0])

    assert len(head["label"]) == 1293 and len(validation["label"]) == 144
    np.testing.assert_array_equal(both["image"], train["image"])
    np.testing.assert_array_equal(last["label"], test["label"][-10:])


@pytest.mark.parametrize("split", ["training", "train[:200%]", "train[5000:]", "train[::2]", ""])
def test_digits_bad_split(make_config, split: str):
    with pytest.raises(DataError, match=re.escape(repr(split))):
        load_split(make_config("digits"), split)


def test_missing_folder_names_path_and_env_var(make_config, tmp_path: Path):
    with pytest.raises(DataError) as error:
        load_split(make_config("mnist", data_dir=str(tmp_path / "data")), "train")
    message = str(error.value)
    assert str(tmp_path / "data" / "mnist") in message
    assert "AELAB_DATA_DIR" in message and "train-images-idx3-ubyte.gz" in message


def test_no_data_dir_at_all(make_config, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("AELAB_DATA_DIR", raising=False)
    with pytest.raises(DataError, match="AELAB_DATA_DIR"):
        load_split(make_config("fashion_mnist"), "train")


def test_dataset_info_needs_no_files(make_config, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("AELAB_DATA_DIR", raising=False)
    info = dataset_info(make_config("ecg5000"))
    assert (info.input_key, info.input_shape, info.num_classes) == ("series", (140, 1), 5)
    assert info.value_max is None and info.splits == {"train": 500, "test": 4500}


@pytest.fixture
def tiny_data_dir(tmp_path: Path) -> tuple[Path, dict]:
    """A data dir holding a tiny mnist/ folder: 20 train and 6 test images."""
    data = raw_files.write_mnist_folder(tmp_path / "data" / "mnist", n_train=20, n_test=6)
    return tmp_path / "data", data


def test_local_files_in_memory_and_lazy_agree(make_config, tiny_data_dir):
    data_dir, data = tiny_data_dir
    eager, info = load_split(make_config("mnist", data_dir=str(data_dir)), "train")
    lazy, _ = load_split(make_config("mnist", data_dir=str(data_dir), in_memory=False), "train")

    assert info == dataset_info(make_config("mnist"))
    assert info.splits == {"train": 20, "test": 6}  # The files' sizes, not MNIST's.
    assert type(eager) is records.ArraySource and type(lazy) is records.TfdsSource
    assert len(eager) == len(lazy) == 20
    for source in (eager, lazy):
        record = source[3]
        assert record["image"].shape == (28, 28, 1) and record["image"].dtype == np.uint8
        assert isinstance(record["label"], np.ndarray) and record["label"].dtype == np.int64
        np.testing.assert_array_equal(source[-1]["image"], source[19]["image"])
    np.testing.assert_array_equal(_everything(eager)["image"], _everything(lazy)["image"])
    expected = {"image": data["train"][0][..., None], "label": data["train"][1]}
    np.testing.assert_array_equal(_sorted_rows(_everything(eager)), _sorted_rows(expected))


@pytest.mark.parametrize("in_memory", [True, False])
def test_record_source_indexing(make_config, tiny_data_dir, in_memory: bool):
    config = make_config("mnist", data_dir=str(tiny_data_dir[0]), in_memory=in_memory)
    source, _ = load_split(config, "test")

    batch = source.get_batch(np.array([5, 0, -1]))
    empty = source.get_batch(np.array([], np.int64))

    assert batch["image"].shape == (3, 28, 28, 1) and batch["label"].shape == (3,)
    np.testing.assert_array_equal(batch["label"][0], source[5]["label"])
    np.testing.assert_array_equal(batch["image"][2], source[5]["image"])
    assert empty["image"].shape == (0, 28, 28, 1) and empty["label"].shape == (0,)
    with pytest.raises(IndexError):
        source[6]
    with pytest.raises(IndexError):
        source.get_batch(np.array([0, 6]))


def test_in_memory_records_are_read_only(make_config, tiny_data_dir):
    source, _ = load_split(make_config("mnist", data_dir=str(tiny_data_dir[0])), "test")
    with pytest.raises(ValueError, match="read-only"):
        source[0]["image"][0, 0, 0] = 1


@pytest.mark.parametrize("in_memory", [True, False])
def test_repr_is_stable_and_pickles(make_config, tiny_data_dir, tmp_path: Path, in_memory: bool):
    config = make_config("mnist", data_dir=str(tiny_data_dir[0]), in_memory=in_memory)
    source, _ = load_split(config, "train[:50%]")
    again, _ = load_split(config, "train[:50%]")
    restored = pickle.loads(pickle.dumps(source))

    expected_path = str(tmp_path / "tfds" / "aelab_mnist" / "1.0.0")
    assert repr(source) == repr(again) == repr(restored)
    assert "'mnist'" in repr(source) and "'train[:50%]'" in repr(source)
    assert expected_path in repr(source) and "0x" not in repr(source)
    assert len(source) == 10
    np.testing.assert_array_equal(restored[4]["image"], source[4]["image"])


def test_prepared_data_is_reused_without_raw_files(make_config, tiny_data_dir, monkeypatch):
    data_dir, _ = tiny_data_dir
    first, _ = load_split(make_config("mnist", data_dir=str(data_dir)), "test")
    for raw_file in (data_dir / "mnist").iterdir():
        raw_file.unlink()
    monkeypatch.delenv("AELAB_DATA_DIR", raising=False)

    second, _ = load_split(make_config("mnist"), "test")

    np.testing.assert_array_equal(_everything(first)["image"], _everything(second)["image"])


def test_data_dir_from_environment(make_config, tiny_data_dir, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AELAB_DATA_DIR", str(tiny_data_dir[0]))
    source, _ = load_split(make_config("mnist"), "test")
    assert len(source) == 6


def test_default_tfds_dir_comes_from_environment(tiny_data_dir, tmp_path: Path):
    # The autouse fixture points AELAB_TFDS_DIR at tmp_path / "default_tfds".
    config = {"name": "mnist", "data_dir": str(tiny_data_dir[0])}  # An older, minimal config.
    source, _ = load_split(config, "test")
    assert str(tmp_path / "default_tfds" / "aelab_mnist") in repr(source)


def test_tfds_split_errors(make_config, tiny_data_dir):
    config = make_config("mnist", data_dir=str(tiny_data_dir[0]))
    with pytest.raises(DataError, match=r"(?s)validation.*splits: \['train', 'test'\]"):
        load_split(config, "validation")
    with pytest.raises(DataError, match="train"):
        load_split(config, "train[:5000]")


def test_binarized_mnist_has_no_labels(make_config, tmp_path: Path):
    sizes = {"train": 5, "validation": 2, "test": 3}
    data = raw_files.write_binarized_folder(tmp_path / "data" / "binarized_mnist", sizes)

    source, info = load_split(
        make_config("binarized_mnist", data_dir=str(tmp_path / "data")), "validation"
    )

    assert info.num_classes is None and info.value_max == 1.0
    assert set(source[0]) == {"image"}
    expected = {"image": data["validation"].reshape(-1, 28, 28, 1)}
    np.testing.assert_array_equal(_sorted_rows(_everything(source)), _sorted_rows(expected))


def test_ecg5000_warns_once_about_rounded_test_split(make_config, tmp_path: Path, caplog):
    series, classes = raw_files.random_ecg(np.random.default_rng(0), 5000)
    (tmp_path / "data" / "ecg5000").mkdir(parents=True)
    raw_files.write_ucr(tmp_path / "data" / "ecg5000" / "ecg5000_5sig.csv", series, classes)
    config = make_config("ecg5000", data_dir=str(tmp_path / "data"))
    local_files._warn_rounded_ecg_test.cache_clear()

    with caplog.at_level(logging.WARNING, logger="aelab.data.local_files"):
        train, info = load_split(config, "train")
        test, _ = load_split(config, "test")
        test_again, _ = load_split(config, "test[:10]")

    warnings = [r for r in caplog.records if r.name == "aelab.data.local_files"]
    assert len(warnings) == 1 and "5 significant digits" in warnings[0].getMessage()
    assert (len(train), len(test), len(test_again)) == (500, 4500, 10)
    assert info.input_key == "series" and test[0]["series"].shape == (140, 1)
    expected = {"label": classes[:500] - 1, "series": series[:500, :, None]}
    np.testing.assert_allclose(_sorted_rows(_everything(train)), _sorted_rows(expected), rtol=1e-6)


def test_npz_relative_to_data_dir(make_config, tmp_path: Path):
    rng = np.random.default_rng(0)
    arrays = {"train": rng.integers(0, 17, (8, 8, 8, 1)), "test": rng.integers(0, 17, (3, 8, 8, 1))}
    labels = {"train_labels": np.arange(8) % 4, "test_labels": np.arange(3)}
    (tmp_path / "data").mkdir()
    np.savez(tmp_path / "data" / "mine.npz", **arrays, **labels)
    config = make_config("npz", data_dir=str(tmp_path / "data"), path="mine.npz")

    source, info = load_split(config, "train")

    assert info == DatasetInfo(
        name="npz",
        input_key="image",
        input_shape=(8, 8, 1),
        value_max=float(max(a.max() for a in arrays.values())),
        num_classes=4,
        splits={"train": 8, "test": 3},
    )
    assert dataset_info(config) == info
    expected = {"image": arrays["train"], "label": labels["train_labels"]}
    np.testing.assert_array_equal(_sorted_rows(_everything(source)), _sorted_rows(expected))


def test_npz_needs_a_path(make_config, tmp_path: Path):
    with pytest.raises(ConfigError, match=r"config\.data\.path is missing"):
        load_split(make_config("npz"), "train")
    with pytest.raises(DataError, match=re.escape(str(tmp_path / "nope.npz"))):
        load_split(make_config("npz", path=str(tmp_path / "nope.npz")), "train")


def test_tfds_route_reads_a_prepared_data_set(make_config, tiny_data_dir, tmp_path: Path):
    builders.prepare(
        builders.AelabMnist, tfds_dir=tmp_path / "other_tfds", manual_dir=tiny_data_dir[0] / "mnist"
    )
    config = make_config("tfds:aelab_mnist", tfds_data_dir=str(tmp_path / "other_tfds"))

    source, info = load_split(config, "train[-5:]")
    direct, _ = load_split(
        make_config("mnist", tfds_data_dir=str(tmp_path / "other_tfds")), "train[-5:]"
    )

    mnist_info = dataset_info(make_config("mnist", tfds_data_dir=str(tmp_path / "other_tfds")))
    assert mnist_info.splits == {"train": 20, "test": 6}
    assert info == DatasetInfo(**{**vars(mnist_info), "name": "tfds:aelab_mnist"})
    assert len(source) == 5 and "tfds:aelab_mnist" in repr(source)
    np.testing.assert_array_equal(_everything(source)["image"], _everything(direct)["image"])


def test_tfds_route_unprepared_builtin_explains(make_config, tmp_path: Path):
    with pytest.raises(DataError) as error:
        load_split(make_config("tfds:mnist", tfds_data_dir=str(tmp_path / "empty")), "train")
    message = str(error.value)
    assert "not prepared" in message and str(tmp_path / "empty") in message
    assert "TensorFlow" in message and "array_record" in message


def test_tfds_route_unknown_name(make_config, tmp_path: Path):
    with pytest.raises(DataError, match="no_such_data_set_xyz"):
        dataset_info(make_config("tfds:no_such_data_set_xyz", tfds_data_dir=str(tmp_path)))


def test_npz_input_key_must_be_known(make_config, tmp_path: Path):
    np.savez(tmp_path / "d.npz", train=np.zeros((2, 3)), test=np.zeros((1, 3)))
    config = make_config("npz", path=str(tmp_path / "d.npz"), input_key="x")
    with pytest.raises(ConfigError, match="input_key='x' is not valid"):
        load_split(config, "train")


def test_array_source_leaves_callers_arrays_writable():
    images = np.zeros((3, 2), np.float32)
    source = records.ArraySource({"image": images}, name="t", split="train")

    images[1] = 5.0

    assert images.flags.writeable
    np.testing.assert_array_equal(source[1]["image"], [5.0, 5.0])
    with pytest.raises(ValueError, match="share their length"):
        records.ArraySource({"a": np.zeros(2), "b": np.zeros(3)}, name="t", split="train")


@pytest.mark.parametrize("in_memory", [True, False])
def test_npz_records_come_back_in_the_files_order(make_config, tmp_path: Path, in_memory: bool):
    # Each record holds its own index (and a label derived from it): any reordering shows.
    sizes = {"train": 40, "validation": 7, "test": 13}
    arrays = {split: np.arange(n, dtype=np.int64)[:, None] * 4 for split, n in sizes.items()}
    labels = {f"{split}_labels": np.arange(n) % 3 for split, n in sizes.items()}
    np.savez(tmp_path / "ordered.npz", **arrays, **labels)
    config = make_config(
        "npz", path=str(tmp_path / "ordered.npz"), input_key="inputs", in_memory=in_memory
    )

    for split in sizes:
        read = _everything(load_split(config, split)[0])
        np.testing.assert_array_equal(read["inputs"], arrays[split])
        np.testing.assert_array_equal(read["label"], labels[f"{split}_labels"])
    tail = _everything(load_split(config, "train[90%:]")[0])
    np.testing.assert_array_equal(tail["inputs"][:, 0], np.arange(36, 40) * 4)
