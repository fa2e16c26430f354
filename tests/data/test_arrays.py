"""The "arrays" data set: NumPy arrays registered in this process by their fingerprint."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import ml_collections
import numpy as np
import pytest

from aelab.core.errors import ConfigError
from aelab.data import DataError, DatasetInfo, dataset_info, load_split
from aelab.data.arrays import register_arrays
from aelab.data.run_splits import run_splits


def _config(key: str, **fields) -> ml_collections.ConfigDict:
    return ml_collections.ConfigDict({"name": "arrays", "arrays": key, **fields})


def _everything(source) -> dict[str, np.ndarray]:
    return source.get_batch(np.arange(len(source)))


def _images(n: int, start: int = 0) -> np.ndarray:
    """uint8 [n, 4, 4] whose first pixel is the record's index (start, start + 1, ...)."""
    images = np.zeros((n, 4, 4), np.uint8)
    images[:, 0, 0] = np.arange(start, start + n)
    images[:, 3, 3] = 255
    return images


def test_images_get_a_channel_axis_their_labels_and_the_255_scale():
    arrays = {
        "train": _images(20),
        "test": _images(5, start=100),
        "train_labels": np.arange(20) % 4,
        "test_labels": np.arange(5) % 2,
    }
    key = register_arrays(arrays)

    source, info = load_split(_config(key), "train")

    assert info == DatasetInfo(
        name="arrays",
        input_key="image",
        input_shape=(4, 4, 1),
        value_max=255.0,
        num_classes=4,
        splits={"train": 20, "test": 5},
    )
    assert dataset_info(_config(key)) == info
    read = _everything(source)
    np.testing.assert_array_equal(read["image"], arrays["train"][..., None])
    np.testing.assert_array_equal(read["label"], arrays["train_labels"])
    assert source[3]["image"].shape == (4, 4, 1) and int(source[3]["label"]) == 3


def test_slices_and_sums_keep_the_arrays_order():
    key = register_arrays({"train": _images(20), "test": _images(5, start=100)})

    def first_pixels(split: str) -> list[int]:
        return _everything(load_split(_config(key), split)[0])["image"][:, 0, 0, 0].tolist()

    assert first_pixels("train[:90%]") == list(range(18))
    assert first_pixels("train[90%:]") == [18, 19]
    assert first_pixels("test[-2:]+train[:2]") == [103, 104, 0, 1]
    assert first_pixels("train[5:5]") == []
    with pytest.raises(DataError, match="Unknown split 'validation'"):
        load_split(_config(key), "validation")


def test_a_validation_fraction_is_carved_from_the_registered_train_split():
    key = register_arrays({"train": _images(20), "test": _images(5)})
    config = _config(key, train_split="train", validation_fraction=0.25, validation_split=None)

    splits = run_splits(config)

    assert (len(splits.train), len(splits.selection)) == (15, 5) and splits.has_validation
    seen = np.concatenate(
        [
            _everything(splits.train)["image"][:, 0, 0, 0],
            _everything(splits.selection)["image"][:, 0, 0, 0],
        ]
    )
    assert sorted(seen.tolist()) == list(range(20))


def test_the_same_contents_get_the_same_key_and_edits_do_not_leak_in():
    train = np.linspace(0, 1, 12, dtype=np.float32).reshape(6, 2)
    key = register_arrays({"train": train, "test": train[:2]})
    assert re.fullmatch(r"[0-9a-f]{16}", key)
    assert register_arrays({"train": train.copy(), "test": train[:2].copy()}) == key
    as_float64 = train.astype(np.float64)
    assert register_arrays({"train": as_float64, "test": as_float64[:2]}) != key
    assert register_arrays({"train": train, "test": train[:3]}) != key

    train[0, 0] = 7.0  # The registered copy is not the caller's array.

    record = load_split(_config(key), "train")[0][0]["inputs"]
    assert record[0] == 0.0
    with pytest.raises(ValueError, match="read-only"):
        record[0] = 1.0


@pytest.mark.slow
def test_a_key_registered_in_another_process_is_found_there_too(tmp_path):
    # The fingerprint is a function of the contents: a fresh process gets the same key.
    key = register_arrays({"train": _images(6), "test": _images(2)})
    code = (
        "import numpy as np\n"
        "from tests.data.test_arrays import _images\n"
        "from aelab.data.arrays import register_arrays\n"
        "print(register_arrays({'train': _images(6), 'test': _images(2)}))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "JAX_PLATFORMS": "cpu"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.strip() == key


def test_real_valued_series_and_vectors():
    series = np.random.default_rng(0).normal(size=(8, 10, 2)).astype(np.float32)
    key = register_arrays({"train": series, "test": series[:3], "validation": series[:1]})

    info = dataset_info(_config(key, input_key="series"))
    vector_info = dataset_info(
        _config(register_arrays({"train": series[:, :, 0], "test": series[:2, :, 0]}))
    )
    one_channel = dataset_info(
        _config(
            register_arrays({"train": series[:, :, 0], "test": series[:2, :, 0]}),
            input_key="series",
        )
    )

    assert (info.input_key, info.input_shape, info.value_max) == ("series", (10, 2), None)
    assert info.splits == {"train": 8, "validation": 1, "test": 3} and info.num_classes is None
    assert (vector_info.input_key, vector_info.input_shape) == ("inputs", (10,))
    assert (one_channel.input_key, one_channel.input_shape) == ("series", (10, 1))


@pytest.mark.parametrize(
    ("arrays", "expected"),
    [
        (np.array([[0, 1], [1, 1]], bool), 1.0),
        (np.array([[0, 1], [1, 0]], np.int64), 1.0),
        (np.array([[0, 3], [16, 2]], np.uint8), 16.0),
        (np.zeros((2, 2), np.uint8), 1.0),
        (np.array([[-1, 3], [2, 2]], np.int32), None),
    ],
)
def test_value_max_follows_the_dtype_and_the_largest_value(arrays, expected):
    key = register_arrays({"train": arrays, "test": arrays})
    assert dataset_info(_config(key)).value_max == expected


def test_an_unregistered_key_says_where_the_arrays_live_and_the_fixes():
    with pytest.raises(DataError) as error:
        load_split(_config("0123456789abcdef"), "train")
    message = str(error.value)
    assert "'0123456789abcdef'" in message and "not registered in this process" in message
    assert "register_arrays" in message and "np.savez" in message and "name='npz'" in message
    with pytest.raises(ConfigError, match=r"config\.data\.arrays is missing"):
        dataset_info(ml_collections.ConfigDict({"name": "arrays"}))


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ([np.zeros((2, 2))], "needs a dict of arrays"),
        ({}, r"got dict \(empty\)"),
        ({"train": np.zeros((2, 2))}, r"missing: \['test'\]"),
        ({"train": np.zeros((2, 2)), "test": np.zeros((1, 2)), "val": np.zeros(1)}, "unexpected"),
        ({"train": np.zeros((0, 2)), "test": np.zeros((1, 2))}, "'train' holds no examples"),
        ({"train": np.zeros((2, 2)), "test": np.zeros((1, 3))}, "same per-example shape"),
        ({"train": np.array([["a", "b"]]), "test": np.zeros((1, 2))}, "'train' holds <U1"),
        ({"train": [[1, 2], [3]], "test": np.zeros((1, 2))}, "'train' is not an array"),
        ({"train": np.full((2, 2), np.nan), "test": np.zeros((1, 2))}, "NaN or infinite"),
        (
            {"train": np.zeros((2, 2)), "test": np.zeros((1, 2)), "train_labels": np.zeros(2, int)},
            "for every split",
        ),
        (
            {
                "train": np.zeros((2, 2)),
                "test": np.zeros((1, 2)),
                "train_labels": np.array([0, -1]),
                "test_labels": np.zeros(1, int),
            },
            "negative labels",
        ),
    ],
)
def test_bad_arrays_are_one_clear_line(arrays, message: str):
    with pytest.raises(DataError, match=message) as error:
        register_arrays(arrays)
    assert "register_arrays" in str(error.value) and "\n" not in str(error.value)


def test_shapes_that_do_not_fit_the_input_key_are_refused():
    key = register_arrays({"train": np.zeros((2, 3, 4, 5, 6)), "test": np.zeros((1, 3, 4, 5, 6))})
    with pytest.raises(DataError, match=r"images need \[n, h, w\] or \[n, h, w, c\]"):
        dataset_info(_config(key))
    with pytest.raises(DataError, match=r"series need \[n, t\] or \[n, t, c\]"):
        dataset_info(_config(key, input_key="series"))


@pytest.mark.slow
def test_the_quickstart_vae_trains_on_registered_arrays(tmp_path, tiny_config):
    from sklearn.datasets import load_digits

    from aelab.evaluation import train_and_evaluate

    digits = load_digits()
    images, labels = digits.images.astype(np.uint8), digits.target
    key = register_arrays(
        {
            "train": images[:300],
            "test": images[300:400],
            "train_labels": labels[:300],
            "test_labels": labels[300:400],
        }
    )
    tiny_config.data.name = "arrays"
    tiny_config.data.arrays = key
    workdir = str(tmp_path / "run")

    train_and_evaluate(tiny_config, workdir)

    with open(os.path.join(workdir, "config.json")) as f:
        saved = json.load(f)
    assert saved["data"]["name"] == "arrays" and saved["data"]["arrays"] == key
    with open(os.path.join(workdir, "run_info.json")) as f:
        assert json.load(f)["final_step"] == tiny_config.train.num_steps
