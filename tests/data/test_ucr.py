"""UCR/UEA archive data sets by name (`ucr:<Name>`): the `.ts` format (univariate and
multivariate), `.tsv`, labels in the declared order, clear errors."""

from pathlib import Path

import ml_collections
import numpy as np
import pytest

from aelab.data import DataError, dataset_info, load_split
from aelab.data.ts_reader import read_ts

HEADER = """# A comment line
@problemName Toy
@timeStamps false
@missing false
@univariate {univariate}
{dimensions}@equalLength true
@seriesLength 4
@classLabel true b a
@data
"""


def _write_ts(path: Path, rows: list[str], univariate: bool = True) -> None:
    dims = "" if univariate else "@dimensions 2\n"
    path.write_text(
        HEADER.format(univariate=str(univariate).lower(), dimensions=dims) + "\n".join(rows) + "\n"
    )


def _archive(tmp_path: Path, univariate: bool = True) -> Path:
    folder = tmp_path / "data" / "ucr" / "Toy"
    folder.mkdir(parents=True)
    if univariate:
        train = ["1,2,3,4:b", "2,3,4,5:a", "0,1,0,1:b"]
        test = ["1,1,1,1:a", "4,3,2,1:b"]
    else:
        train = ["1,2,3,4:0,0,0,0:b", "2,3,4,5:1,1,1,1:a", "0,1,0,1:2,2,2,2:b"]
        test = ["1,1,1,1:3,3,3,3:a", "4,3,2,1:4,4,4,4:b"]
    _write_ts(folder / "Toy_TRAIN.ts", train, univariate)
    _write_ts(folder / "Toy_TEST.ts", test, univariate)
    return tmp_path / "data"


def _config(root: Path, **fields):
    return ml_collections.ConfigDict({"name": "ucr:Toy", "data_dir": str(root), **fields})


def test_read_ts_univariate_and_multivariate(tmp_path):
    path = tmp_path / "u.ts"
    _write_ts(path, ["1,2,3,4:b", "2,3,4,5:a"])
    contents = read_ts(path)
    assert contents.series.shape == (2, 4, 1) and contents.series.dtype == np.float32
    assert contents.labels.tolist() == ["b", "a"] and contents.class_names == ("b", "a")
    path = tmp_path / "m.ts"
    _write_ts(path, ["1,2,3,4:5,6,7,8:a"], univariate=False)
    np.testing.assert_array_equal(read_ts(path).series[0, :, 1], [5, 6, 7, 8])


@pytest.mark.parametrize(
    "rows, message",
    [
        (["1,2,3,4:c"], r"class 'c' is not among the declared classes"),
        (["1,2,x,4:a"], r"line 10: a value is not a number"),
        (["1,2,3,4:a", "1,2,3:a"], r"line 11: a series of shape \(3, 1\)"),
        ([], r"holds no series"),
    ],
)
def test_read_ts_names_the_problem(tmp_path, rows, message):
    path = tmp_path / "bad.ts"
    _write_ts(path, rows)
    with pytest.raises(DataError, match=message):
        read_ts(path)


def test_ucr_source_reads_splits_with_labels_in_declared_order(tmp_path):
    root = _archive(tmp_path)
    info = dataset_info(_config(root))
    assert info.input_shape == (4, 1) and info.num_classes == 2
    assert info.splits == {"train": 3, "test": 2} and info.value_max is None
    train, _ = load_split(_config(root), "train")
    batch = train.get_batch(np.arange(3))
    assert batch["label"].tolist() == [0, 1, 0]  # "b" is declared first
    np.testing.assert_array_equal(batch["series"][1, :, 0], [2, 3, 4, 5])
    test, _ = load_split(_config(root), "train+test[:1]")
    assert len(test) == 4


def test_ucr_multivariate_and_normalised(tmp_path):
    root = _archive(tmp_path, univariate=False)
    source, info = load_split(_config(root, normalize="series"), "train")
    assert info.input_shape == (4, 2)
    series = source.get_batch(np.arange(3))["series"]
    np.testing.assert_allclose(series[0].mean(axis=0)[0], 0.0, atol=1e-6)


def test_missing_ucr_folder_says_where_to_put_it(tmp_path):
    with pytest.raises(DataError, match=r"ucr/Nope does not exist.*timeseriesclassification"):
        dataset_info(ml_collections.ConfigDict({"name": "ucr:Nope", "data_dir": str(tmp_path)}))
