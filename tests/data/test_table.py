"""The "table" data set: CSV / TSV / Parquet rows as real-valued vectors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import ml_collections
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aelab.core.errors import ConfigError
from aelab.data import DataError, DatasetInfo, dataset_info, load_split


def _config(path, **fields) -> ml_collections.ConfigDict:
    return ml_collections.ConfigDict({"name": "table", "path": str(path), **fields})


def _everything(source) -> dict[str, np.ndarray]:
    return source.get_batch(np.arange(len(source)))


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_a_csv_file_is_the_train_split_of_its_numeric_columns(tmp_path: Path):
    path = _write(
        tmp_path / "t.csv",
        "name,x,y,kind\na,1,2.5,cat\nb,3,-4e-1,dog\n\nc,5,6,cat\nd,7,8,bird\n",
    )
    config = _config(path, label_column="kind")

    source, info = load_split(config, "train")

    assert info == DatasetInfo(
        name="table",
        input_key="inputs",
        input_shape=(2,),
        value_max=None,
        num_classes=3,
        splits={"train": 4},
    )
    read = _everything(source)
    assert read["inputs"].dtype == np.float32
    expected = np.array([[1, 2.5], [3, -0.4], [5, 6], [7, 8]], np.float32)
    np.testing.assert_array_equal(read["inputs"], expected)
    np.testing.assert_array_equal(read["label"], [1, 2, 1, 0])  # bird, cat, dog
    tail = _everything(load_split(config, "train[75%:]")[0])
    np.testing.assert_array_equal(tail["inputs"], [[7, 8]])


def test_columns_pick_and_order_the_features(tmp_path: Path):
    path = _write(tmp_path / "t.tsv", "a\tb\tc\n1\t2\t3\n4\t5\t6\n")
    source, info = load_split(_config(path, columns=("c", "a")), "train")
    assert info.input_shape == (2,) and info.num_classes is None
    np.testing.assert_array_equal(_everything(source)["inputs"], [[3, 1], [6, 4]])


def test_a_split_column_says_each_rows_split(tmp_path: Path):
    path = _write(
        tmp_path / "t.csv",
        "x,split,label\n0,train,1\n1,test,2\n2,train,1\n3,validation,5\n4,test,1\n",
    )
    config = _config(path, split_column="split", label_column="label")

    info = dataset_info(config)
    test = _everything(load_split(config, "test")[0])

    assert info.splits == {"train": 2, "validation": 1, "test": 2} and info.num_classes == 3
    np.testing.assert_array_equal(test["inputs"][:, 0], [1, 4])
    np.testing.assert_array_equal(test["label"], [1, 0])  # label values 2, 1 -> classes 1, 0
    both = _everything(load_split(config, "train+validation")[0])["inputs"][:, 0]
    np.testing.assert_array_equal(both, [0, 2, 3])


def test_a_folder_of_one_file_per_split_with_parquet(tmp_path: Path):
    folder = tmp_path / "tables"
    folder.mkdir()
    _write(folder / "train.csv", "u,v,y\n1,2,0\n3,4,1\n5,6,1\n")
    pq.write_table(
        pa.table({"y": [1, 0], "u": [0.5, 1.5], "v": np.array([7, 8], np.int32)}),
        folder / "test.parquet",
    )
    (tmp_path / "data").mkdir()
    config = _config("../tables", data_dir=str(tmp_path / "data"), label_column="y")

    train, info = load_split(config, "train")
    test, _ = load_split(config, "test")

    assert info.splits == {"train": 3, "test": 2} and info.input_shape == (2,)
    np.testing.assert_array_equal(_everything(test)["inputs"], [[0.5, 7], [1.5, 8]])
    np.testing.assert_array_equal(_everything(test)["label"], [1, 0])
    np.testing.assert_array_equal(_everything(train)["label"], [0, 1, 1])


def test_an_edited_file_is_read_again(tmp_path: Path):
    path = _write(tmp_path / "t.csv", "x\n1\n2\n")
    assert dataset_info(_config(path)).splits == {"train": 2}
    _write(path, "x\n1\n2\n3\n")
    os.utime(path, ns=(1, 1))  # A different stamp whatever the clock's resolution.
    assert dataset_info(_config(path)).splits == {"train": 3}


@pytest.mark.parametrize(
    ("text", "fields", "message"),
    [
        ("", {}, "is empty; expected a header line"),
        ("x,y\n", {}, "holds no rows"),
        ("x,y\n1,2\n3\n", {}, r"line 3: 1 fields; the header \(line 1\) has 2"),
        ("x,y\n1,2\n3,oops\n", {}, r"column 'y', line 3: 'oops' is not a number"),
        ("x,y\n1,2\n3,\n", {}, r"column 'y', line 3: an empty value is not a number"),
        ("x,y\n1,2\n3,nan\n", {}, r"column 'y', line 3: nan is not a finite number"),
        ("x,y\n1,2\n", {"columns": ("x", "z")}, r"no column 'z' \(config\.data\.columns\)"),
        ("x,y\n1,2\n", {"label_column": "kind"}, r"no column 'kind'.*its columns: \['x', 'y'\]"),
        ("x,x\n1,2\n", {}, r"column names \['x'\] appear more than once"),
        ("a,b\nu,v\n", {}, "has no numeric column"),
        ("x,s\n1,train\n2,tset\n", {"split_column": "s"}, r"line 3: split 'tset'"),
    ],
)
def test_bad_tables_are_one_clear_line(tmp_path: Path, text: str, fields: dict, message: str):
    path = _write(tmp_path / "bad.csv", text)
    with pytest.raises(DataError, match=message) as error:
        dataset_info(_config(path, **fields))
    assert str(path) in str(error.value) and "\n" not in str(error.value)


def test_missing_files_and_folders(tmp_path: Path):
    with pytest.raises(DataError, match="does not exist"):
        dataset_info(_config(tmp_path / "nope.csv"))
    with pytest.raises(DataError, match=r"unknown suffix '\.txt'"):
        dataset_info(_config(_write(tmp_path / "t.txt", "x\n1\n")))
    (tmp_path / "folder").mkdir()
    _write(tmp_path / "folder" / "train.csv", "x\n1\n")
    with pytest.raises(DataError, match=r"needs train.<ext> and test.<ext>.*\['train.csv'\]"):
        dataset_info(_config(tmp_path / "folder"))
    with pytest.raises(ConfigError, match=r"config\.data\.path is missing"):
        dataset_info(ml_collections.ConfigDict({"name": "table"}))


def test_parquet_nulls_name_the_column_and_row(tmp_path: Path):
    pq.write_table(pa.table({"x": [1.0, None, 3.0]}), tmp_path / "t.parquet")
    with pytest.raises(DataError, match=r"column 'x', row 1: missing value"):
        dataset_info(_config(tmp_path / "t.parquet"))


def test_a_missing_pyarrow_is_named_with_its_install_command(tmp_path, monkeypatch):
    pq.write_table(pa.table({"x": [1.0]}), tmp_path / "t.parquet")
    monkeypatch.setitem(__import__("sys").modules, "pyarrow.parquet", None)
    with pytest.raises(DataError, match="pip install pyarrow"):
        dataset_info(_config(tmp_path / "t.parquet"))


@pytest.mark.slow  # a whole tiny run with a fresh compile: ~13 s on a shared 2-core CPU
def test_a_gaussian_dense_vae_trains_on_a_table(tmp_path: Path, tiny_config):
    from aelab.evaluation import train_and_evaluate

    rng = np.random.default_rng(0)
    rows = rng.normal(size=(120, 5))
    lines = ["a,b,c,d,e,split"] + [
        ",".join(f"{v:.6f}" for v in row) + ("," + ("test" if i % 4 == 0 else "train"))
        for i, row in enumerate(rows)
    ]
    path = _write(tmp_path / "t.csv", "\n".join(lines) + "\n")
    tiny_config.data.name = "table"
    tiny_config.data.path = str(path)
    tiny_config.data.split_column = "split"
    tiny_config.objective.likelihood = "gaussian"
    workdir = str(tmp_path / "run")

    train_and_evaluate(tiny_config, workdir)

    with open(os.path.join(workdir, "run_info.json")) as f:
        assert json.load(f)["final_step"] == tiny_config.train.num_steps
    with open(os.path.join(workdir, "config.json")) as f:
        assert json.load(f)["data"]["split_column"] == "split"
