"""aelab's TFDS builders, prepared from tiny generated files into a tmp TFDS dir.

TFDS shuffles records on write, so every comparison here is order-independent.
"""

from __future__ import annotations

import logging
import multiprocessing
import re
import socket
from pathlib import Path

import numpy as np
import pytest

from aelab.data import DataError, builders
from tests.data import raw_files


def _read_all(builder, split: str) -> dict[str, np.ndarray]:
    """Every record of `split`, stacked: {key: [N, ...]}."""
    source = builder.as_data_source(split)
    records = source.__getitems__(list(range(len(source))))
    return {key: np.stack([np.asarray(r[key]) for r in records]) for key in records[0]}


def _sorted_rows(images: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
    """Rows `[N, D]` (flattened images, then the label) in lexicographic order."""
    rows = images.reshape(len(images), -1).astype(np.float64)
    if labels is not None:
        rows = np.concatenate([rows, np.asarray(labels, np.float64)[:, None]], axis=1)
    return rows[np.lexsort(rows.T[::-1])]


@pytest.mark.parametrize("builder_cls", [builders.AelabMnist, builders.AelabFashionMnist])
def test_idx_builder_round_trip(tmp_path: Path, builder_cls):
    data = raw_files.write_mnist_folder(tmp_path / "raw", n_train=12, n_test=5)

    builder = builders.prepare(builder_cls, tfds_dir=tmp_path / "tfds", manual_dir=tmp_path / "raw")

    assert {name: s.num_examples for name, s in builder.info.splits.items()} == {
        "train": 12,
        "test": 5,
    }
    assert dict(builder.info.metadata) == {"value_max": 255, "num_classes": 10}
    for split, (images, labels) in data.items():
        read = _read_all(builder, split)
        assert read["image"].dtype == np.uint8 and read["image"].shape == (len(images), 28, 28, 1)
        assert read["label"].dtype == np.int64
        np.testing.assert_array_equal(
            _sorted_rows(read["image"], read["label"]), _sorted_rows(images, labels)
        )


def test_idx_builder_accepts_uncompressed_files(tmp_path: Path):
    data = raw_files.write_mnist_folder(tmp_path / "raw", n_train=4, n_test=3)
    for gz in (tmp_path / "raw").glob("*.gz"):
        raw_files.write_idx(gz.with_suffix(""), raw_files.read_gzip_idx(gz), compress=False)
        gz.unlink()

    builder = builders.prepare(
        builders.AelabMnist, tfds_dir=tmp_path / "tfds", manual_dir=tmp_path / "raw"
    )

    read = _read_all(builder, "test")
    np.testing.assert_array_equal(_sorted_rows(read["image"]), _sorted_rows(data["test"][0]))


def test_idx_builder_missing_file_names_folder_and_fix(tmp_path: Path):
    raw_files.write_mnist_folder(tmp_path / "raw", n_train=4, n_test=3)
    (tmp_path / "raw" / "t10k-labels-idx1-ubyte.gz").unlink()

    with pytest.raises(DataError) as error:
        builders.prepare(
            builders.AelabMnist, tfds_dir=tmp_path / "tfds", manual_dir=tmp_path / "raw"
        )

    message = str(error.value)
    assert "t10k-labels-idx1-ubyte.gz" in message and str(tmp_path / "raw") in message
    assert "AELAB_DATA_DIR" in message
    assert not builders.AelabMnist(data_dir=tmp_path / "tfds").is_prepared()


def test_idx_builder_empty_folder(tmp_path: Path):
    (tmp_path / "raw").mkdir()
    with pytest.raises(DataError, match=re.escape(str(tmp_path / "raw"))):
        builders.prepare(
            builders.AelabMnist, tfds_dir=tmp_path / "tfds", manual_dir=tmp_path / "raw"
        )


def test_idx_builder_rejects_label_count_mismatch(tmp_path: Path):
    raw_files.write_mnist_folder(tmp_path / "raw", n_train=4, n_test=3)
    raw_files.write_idx(tmp_path / "raw" / "train-labels-idx1-ubyte.gz", np.zeros(5, np.uint8))

    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte\.gz"):
        builders.prepare(
            builders.AelabMnist, tfds_dir=tmp_path / "tfds", manual_dir=tmp_path / "raw"
        )


def test_binarized_mnist_builder(tmp_path: Path):
    sizes = {"train": 6, "validation": 3, "test": 4}
    data = raw_files.write_binarized_folder(tmp_path / "raw", sizes)

    builder = builders.prepare(
        builders.AelabBinarizedMnist, tfds_dir=tmp_path / "tfds", manual_dir=tmp_path / "raw"
    )

    assert {name: s.num_examples for name, s in builder.info.splits.items()} == sizes
    assert list(builder.info.features.keys()) == ["image"]  # No labels in this data set.
    assert dict(builder.info.metadata) == {"value_max": 1, "num_classes": None}
    for split, images in data.items():
        read = _read_all(builder, split)
        assert read["image"].dtype == np.uint8 and read["image"].shape[1:] == (28, 28, 1)
        assert set(np.unique(read["image"])) <= {0, 1}
        np.testing.assert_array_equal(_sorted_rows(read["image"]), _sorted_rows(images))


def test_ecg5000_builder_from_ucr_files(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    rng = np.random.default_rng(0)
    train, test = raw_files.random_ecg(rng, 9), raw_files.random_ecg(rng, 7)
    (tmp_path / "raw").mkdir()
    raw_files.write_ucr(tmp_path / "raw" / "ECG5000_TRAIN.arff", *train, header=True)
    raw_files.write_ucr(tmp_path / "raw" / "ECG5000_TEST.txt", *test)

    with caplog.at_level(logging.WARNING, logger="aelab.data.builders"):
        builder = builders.prepare(
            builders.AelabEcg5000, tfds_dir=tmp_path / "tfds", manual_dir=tmp_path / "raw"
        )

    assert not [r for r in caplog.records if r.name == "aelab.data.builders"]
    assert builder.info.metadata["test_source"] == "ECG5000_TEST.txt"
    assert builder.info.metadata["num_classes"] == 5
    for split, (series, classes) in (("train", train), ("test", test)):
        read = _read_all(builder, split)
        assert read["series"].dtype == np.float32 and read["series"].shape == (len(series), 140, 1)
        assert read["label"].dtype == np.int64
        np.testing.assert_array_equal(
            _sorted_rows(read["series"], read["label"]), _sorted_rows(series, classes - 1)
        )


def test_ecg5000_builder_test_split_from_csv(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    rng = np.random.default_rng(1)
    series, classes = raw_files.random_ecg(rng, 5000)
    (tmp_path / "raw").mkdir()
    raw_files.write_ucr(tmp_path / "raw" / "ECG5000_TRAIN.arff", series[:500], classes[:500])
    raw_files.write_ucr(tmp_path / "raw" / "ecg5000_5sig.csv", series, classes)

    with caplog.at_level(logging.WARNING, logger="aelab.data.builders"):
        builder = builders.prepare(
            builders.AelabEcg5000, tfds_dir=tmp_path / "tfds", manual_dir=tmp_path / "raw"
        )

    assert any("5 significant digits" in r.getMessage() for r in caplog.records)
    assert builder.info.metadata["test_source"] == "ecg5000_5sig.csv"
    read = _read_all(builder, "test")
    assert len(read["label"]) == 4500
    np.testing.assert_array_equal(
        _sorted_rows(read["series"], read["label"]), _sorted_rows(series[500:], classes[500:] - 1)
    )


def test_ecg5000_builder_rejects_short_csv(tmp_path: Path):
    (tmp_path / "raw").mkdir()
    raw_files.write_ucr(
        tmp_path / "raw" / "ecg5000_5sig.csv", *raw_files.random_ecg(np.random.default_rng(0), 10)
    )
    with pytest.raises(DataError, match="10 rows; expected 5000"):
        builders.prepare(
            builders.AelabEcg5000, tfds_dir=tmp_path / "tfds", manual_dir=tmp_path / "raw"
        )


def test_npz_builder_with_labels_and_validation(tmp_path: Path):
    rng = np.random.default_rng(0)
    arrays = {
        split: rng.integers(0, 200, size=(n, 4, 4, 1), dtype=np.uint8)
        for split, n in (("train", 10), ("validation", 3), ("test", 4))
    }
    labels = {f"{split}_labels": rng.integers(0, 3, size=len(a)) for split, a in arrays.items()}
    labels["train_labels"][0] = 6  # Sets num_classes to 7.
    np.savez(tmp_path / "mine.npz", **arrays, **labels)

    config = builders.npz_config(tmp_path / "mine.npz")
    builder = builders.prepare(builders.AelabNpz, tfds_dir=tmp_path / "tfds", config=config)

    assert config.splits == ("train", "validation", "test") and config.labelled
    assert {name: s.num_examples for name, s in builder.info.splits.items()} == {
        "train": 10,
        "validation": 3,
        "test": 4,
    }
    assert builder.info.metadata["value_max"] == max(a.max() for a in arrays.values())
    assert builder.info.metadata["num_classes"] == 7
    for split, images in arrays.items():
        read = _read_all(builder, split)
        np.testing.assert_array_equal(
            _sorted_rows(read["image"], read["label"]),
            _sorted_rows(images, labels[f"{split}_labels"]),
        )


def test_npz_builder_unlabelled_float_series(tmp_path: Path):
    rng = np.random.default_rng(0)
    arrays = {"train": rng.normal(size=(5, 30, 2)), "test": rng.normal(size=(2, 30, 2))}
    np.savez(tmp_path / "series.npz", **arrays)

    config = builders.npz_config(tmp_path / "series.npz", input_key="series")
    builder = builders.prepare(builders.AelabNpz, tfds_dir=tmp_path / "tfds", config=config)

    assert list(builder.info.features.keys()) == ["series"]
    assert builder.info.metadata["value_max"] is None
    assert builder.info.metadata["num_classes"] is None
    read = _read_all(builder, "test")
    assert read["series"].dtype == np.float64
    np.testing.assert_array_equal(_sorted_rows(read["series"]), _sorted_rows(arrays["test"]))


def test_npz_builder_bool_inputs_become_uint8(tmp_path: Path):
    arrays = {"train": np.eye(3, dtype=bool)[:, :, None], "test": np.ones((1, 3, 1), bool)}
    np.savez(tmp_path / "b.npz", **arrays)

    config = builders.npz_config(tmp_path / "b.npz")
    builder = builders.prepare(builders.AelabNpz, tfds_dir=tmp_path / "tfds", config=config)

    read = _read_all(builder, "train")
    assert read["image"].dtype == np.uint8
    assert builder.info.metadata["value_max"] == 1
    np.testing.assert_array_equal(_sorted_rows(read["image"]), _sorted_rows(arrays["train"]))


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"train": np.zeros((2, 3))}, r"missing: \['test'\]"),
        ({"train": np.zeros((2, 3)), "test": np.zeros((1, 3)), "valid": np.zeros(1)}, "unexpected"),
        ({"train": np.zeros((2, 3)), "test": np.zeros((1, 4))}, "same per-example shape"),
        ({"train": np.zeros((2, 3)), "test": np.zeros((1, 3), np.int32)}, "same per-example"),
        (
            {"train": np.zeros((2, 3)), "test": np.zeros((1, 3)), "train_labels": np.zeros(2, int)},
            "for every split",
        ),
        (
            {
                "train": np.zeros((2, 3)),
                "test": np.zeros((1, 3)),
                "train_labels": np.zeros(3, int),
                "test_labels": np.zeros(1, int),
            },
            "train_labels",
        ),
        (
            {
                "train": np.zeros((2, 3)),
                "test": np.zeros((1, 3)),
                "train_labels": np.zeros(2),
                "test_labels": np.zeros(1),
            },
            "expected integers",
        ),
    ],
)
def test_npz_config_rejects_bad_layouts(tmp_path: Path, arrays: dict, message: str):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataError, match=message) as error:
        builders.npz_config(tmp_path / "bad.npz")
    assert str(tmp_path / "bad.npz") in str(error.value)


def test_npz_config_name_follows_content(tmp_path: Path):
    arrays = {"train": np.zeros((2, 3)), "test": np.ones((1, 3))}
    np.savez(tmp_path / "a.npz", **arrays)
    (tmp_path / "copy").mkdir()
    (tmp_path / "copy" / "a.npz").write_bytes((tmp_path / "a.npz").read_bytes())
    name = builders.npz_config(tmp_path / "a.npz").name

    assert builders.npz_config(tmp_path / "copy" / "a.npz").name == name
    assert builders.npz_config(tmp_path / "a.npz", input_key="series").name != name
    np.savez(tmp_path / "a.npz", train=np.zeros((2, 3)), test=np.zeros((1, 3)))
    assert builders.npz_config(tmp_path / "a.npz").name != name


def test_prepare_reuses_prepared_data(tmp_path: Path):
    raw_files.write_mnist_folder(tmp_path / "raw", n_train=4, n_test=3)
    first = builders.prepare(
        builders.AelabMnist, tfds_dir=tmp_path / "tfds", manual_dir=tmp_path / "raw"
    )
    info_file = Path(first.data_dir) / "dataset_info.json"
    written = info_file.stat().st_mtime_ns
    for raw_file in (tmp_path / "raw").iterdir():
        raw_file.unlink()

    second = builders.prepare(
        builders.AelabMnist, tfds_dir=tmp_path / "tfds", manual_dir=tmp_path / "raw"
    )

    assert info_file.stat().st_mtime_ns == written
    assert second.info.splits["train"].num_examples == 4


def _prepare_tiny_mnist(folders: tuple[str, str]) -> tuple[str, int]:
    """Runs in a subprocess: prepares MNIST from `folders = (raw, tfds)`."""
    raw, tfds_dir = folders
    builder = builders.prepare(builders.AelabMnist, tfds_dir=tfds_dir, manual_dir=raw)
    return str(builder.data_dir), len(builder.as_data_source("train"))


def test_prepare_is_safe_in_concurrent_processes(tmp_path: Path):
    raw_files.write_mnist_folder(tmp_path / "raw", n_train=3000, n_test=10)
    folders = (str(tmp_path / "raw"), str(tmp_path / "tfds"))

    # spawn, not fork: the parent has TFDS's threads running.
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        results = pool.map(_prepare_tiny_mnist, [folders] * 3)

    assert {data_dir for data_dir, _ in results} == {
        str(tmp_path / "tfds" / "aelab_mnist" / "1.0.0")
    }
    assert [n for _, n in results] == [3000, 3000, 3000]
    assert sorted(p.name for p in (tmp_path / "tfds" / "aelab_mnist").iterdir()) == ["1.0.0"]


def test_prepare_needs_no_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def refuse(*args, **kwargs):
        raise AssertionError("preparation tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    raw_files.write_binarized_folder(tmp_path / "raw", {"train": 2, "validation": 1, "test": 1})

    builder = builders.prepare(
        builders.AelabBinarizedMnist, tfds_dir=tmp_path / "tfds", manual_dir=tmp_path / "raw"
    )

    assert builder.info.splits["train"].num_examples == 2
