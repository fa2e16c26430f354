"""Readers on tiny generated files, and on corrupted ones (each must raise a DataError)."""

from __future__ import annotations

import gzip
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

from aelab.data import DataError, readers
from tests.data import raw_files


@pytest.mark.parametrize("compress", [True, False])
def test_read_idx_images_and_labels(tmp_path: Path, compress: bool):
    rng = np.random.default_rng(0)
    images, labels = raw_files.random_images(rng, 7)
    image_path = raw_files.write_idx(tmp_path / "images", images, compress=compress)
    label_path = raw_files.write_idx(tmp_path / "labels", labels, compress=compress)

    read_images, read_labels = readers.read_idx(image_path), readers.read_idx(label_path)

    assert read_images.dtype == np.uint8 and read_images.shape == (7, 28, 28)
    np.testing.assert_array_equal(read_images, images)
    assert read_labels.dtype == np.uint8 and read_labels.shape == (7,)
    np.testing.assert_array_equal(read_labels, labels)


def _corrupt_idx_files(tmp_path: Path) -> dict[str, Path]:
    images = np.zeros((3, 28, 28), np.uint8)
    good = raw_files.idx_bytes(images)
    files = {
        "wrong_magic": b"\x00\x00\x08\x04" + good[4:],
        "truncated_data": good[:-10],
        "trailing_bytes": good + b"\x00",
        "truncated_header": good[:6],
        "empty": b"",
    }
    paths = {name: tmp_path / f"{name}.idx" for name in files}
    for name, data in files.items():
        paths[name].write_bytes(data)
    truncated_gzip = gzip.compress(good)[:-20]
    paths["truncated_gzip"] = tmp_path / "truncated_gzip.idx.gz"
    paths["truncated_gzip"].write_bytes(truncated_gzip)
    paths["garbage_gzip"] = tmp_path / "garbage_gzip.idx.gz"
    paths["garbage_gzip"].write_bytes(b"\x1f\x8b" + bytes(range(256)) * 4)
    paths["missing"] = tmp_path / "missing.idx.gz"
    return paths


@pytest.mark.parametrize(
    "kind",
    [
        "wrong_magic",
        "truncated_data",
        "trailing_bytes",
        "truncated_header",
        "empty",
        "truncated_gzip",
        "garbage_gzip",
        "missing",
    ],
)
def test_read_idx_rejects_corrupt_files(tmp_path: Path, kind: str):
    path = _corrupt_idx_files(tmp_path)[kind]
    with pytest.raises(DataError, match=re.escape(str(path))):
        readers.read_idx(path)


def test_read_idx_wrong_magic_message_gives_expected_magics(tmp_path: Path):
    path = _corrupt_idx_files(tmp_path)["wrong_magic"]
    with pytest.raises(DataError, match=r"2051.*2049"):
        readers.read_idx(path)


@pytest.mark.parametrize("name", ["x.amat", "x.amat.gz"])
def test_read_amat(tmp_path: Path, name: str):
    images = np.random.default_rng(0).integers(0, 2, size=(5, 784), dtype=np.uint8)
    path = raw_files.write_amat(tmp_path / name, images)

    read = readers.read_amat(path)

    assert read.dtype == np.uint8 and read.shape == (5, 784)
    np.testing.assert_array_equal(read, images)


def test_read_amat_accepts_other_whitespace(tmp_path: Path):
    images = np.random.default_rng(1).integers(0, 2, size=(3, 784), dtype=np.uint8)
    text = raw_files.amat_text(images).replace("\n", " \r\n")
    path = tmp_path / "crlf.amat"
    path.write_text(text)

    np.testing.assert_array_equal(readers.read_amat(path), images)


@pytest.mark.parametrize(
    ("kind", "message"),
    [("short_row", "line 2: 783 values"), ("bad_value", "line 3: values must be 0 or 1")],
)
def test_read_amat_rejects_bad_rows(tmp_path: Path, kind: str, message: str):
    lines = raw_files.amat_text(np.zeros((3, 784), np.uint8)).splitlines()
    if kind == "short_row":
        lines[1] = lines[1][:-2]
    else:
        lines[2] = "2" + lines[2][1:]
    path = tmp_path / f"{kind}.amat"
    path.write_text("\n".join(lines) + "\n")

    with pytest.raises(DataError, match=message) as error:
        readers.read_amat(path)
    assert str(path) in str(error.value)


def test_read_amat_rejects_truncated_gzip(tmp_path: Path):
    path = tmp_path / "x.amat.gz"
    path.write_bytes(gzip.compress(raw_files.amat_text(np.ones((4, 784), np.uint8)).encode())[:-30])
    with pytest.raises(DataError, match=re.escape(str(path))):
        readers.read_amat(path)


@pytest.mark.parametrize(
    ("name", "header"),
    [("ECG_TRAIN.arff", False), ("ECG_TRAIN.arff", True), ("e.csv", False), ("E_TEST.txt", False)],
)
def test_read_ucr_formats(tmp_path: Path, name: str, header: bool):
    series, classes = raw_files.random_ecg(np.random.default_rng(0), 6)
    path = raw_files.write_ucr(tmp_path / name, series, classes, header=header)

    read_series, read_classes = readers.read_ucr(path)

    assert read_series.dtype == np.float32 and read_series.shape == (6, 140)
    assert read_classes.dtype == np.int64
    np.testing.assert_array_equal(read_classes, classes)
    np.testing.assert_allclose(read_series, series, rtol=1e-6)


def test_read_ucr_quoted_arff_classes(tmp_path: Path):
    path = tmp_path / "q.arff"
    path.write_text("@relation x\n@attribute a numeric\n@attribute c {1,2}\n@data\n0.5,'2'\n")
    series, classes = readers.read_ucr(path)
    np.testing.assert_array_equal(series, [[0.5]])
    np.testing.assert_array_equal(classes, [2])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1.0,2.0,1\n1.0,abc,2\n", "line 2: non-numeric"),
        ("1.0,2.0,1\n1.0,2.0,3.0,2\n", "line 2: 4 columns"),
        ("1.0,2.0,1.5\n", "non-integer"),
        ("", "no rows"),
    ],
)
def test_read_ucr_rejects_malformed_rows(tmp_path: Path, text: str, message: str):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message) as error:
        readers.read_ucr(path)
    assert str(path) in str(error.value)


def test_read_ucr_rejects_unknown_suffix_and_missing_file(tmp_path: Path):
    with pytest.raises(DataError, match="unknown suffix"):
        readers.read_ucr(tmp_path / "x.json")
    with pytest.raises(DataError, match="not found"):
        readers.read_ucr(tmp_path / "missing.arff")


def test_read_npz_and_headers(tmp_path: Path):
    path = tmp_path / "d.npz"
    arrays = {"train": np.arange(24, dtype=np.float32).reshape(6, 4), "test": np.arange(3)}
    np.savez_compressed(path, **arrays)

    read = readers.read_npz(path)
    headers = readers.read_npz_headers(path)

    assert set(read) == {"train", "test"}
    np.testing.assert_array_equal(read["train"], arrays["train"])
    assert headers == {
        "train": ((6, 4), np.dtype(np.float32)),
        "test": ((3,), arrays["test"].dtype),
    }


def test_read_npz_rejects_corrupt_and_pickled(tmp_path: Path):
    truncated = tmp_path / "truncated.npz"
    np.savez(truncated, train=np.zeros((100, 10)))
    truncated.write_bytes(truncated.read_bytes()[:500])
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip file at all")
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, train=np.array([{"a": 1}], dtype=object))

    for path in (truncated, garbage, pickled, tmp_path / "missing.npz"):
        with pytest.raises(DataError, match=re.escape(str(path))):
            readers.read_npz(path)
    for path in (truncated, garbage):
        with pytest.raises(DataError, match=re.escape(str(path))):
            readers.read_npz_headers(path)


def test_read_npz_headers_rejects_non_array_entries(tmp_path: Path):
    path = tmp_path / "odd.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(DataError, match=r"notes\.txt"):
        readers.read_npz_headers(path)
