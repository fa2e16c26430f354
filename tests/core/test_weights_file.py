import sys

import numpy as np
import pytest

from aelab.core.weights_file import NO_SAFETENSORS, read_arrays, write_arrays
from tests.weights_suffixes import WEIGHTS_SUFFIXES


class WeightsError(ValueError):
    pass


def _error(path, problem):
    return WeightsError(f"weights {path!r}: {problem}. Make it with `convert`.")


@pytest.mark.parametrize("suffix", WEIGHTS_SUFFIXES)
def test_arrays_round_trip_as_float32(tmp_path, suffix):
    path = tmp_path / f"w{suffix}"
    arrays = {"a.kernel": np.arange(6.0).reshape(2, 3), "b": np.ones(4, np.float16)}
    write_arrays(path, arrays, "test weights")
    read = read_arrays(path, _error)
    assert sorted(read) == ["a.kernel", "b"]
    for key, value in arrays.items():
        assert read[key].dtype == np.float32
        np.testing.assert_array_equal(read[key], value)


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("absent.npz", None, "no such file"),
        ("weights.pth", b"\x80\x02", "has neither a .safetensors nor a .npz suffix"),
        ("corrupt.npz", b"not a zip file", "cannot be read ("),
        ("corrupt.safetensors", b"\x00" * 16, "cannot be read ("),
    ],
)
def test_a_missing_or_unreadable_file_raises_the_callers_error(tmp_path, name, content, problem):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    if name.endswith(".safetensors"):
        pytest.importorskip("safetensors")
    with pytest.raises(WeightsError) as raised:
        read_arrays(path, _error)
    message = str(raised.value)
    assert problem in message and str(path) in message and "Make it with" in message
    assert "\n" not in message


def test_a_safetensors_file_without_the_package_says_how_to_fix_it(tmp_path, monkeypatch):
    path = tmp_path / "w.safetensors"
    path.write_bytes(b"\x00" * 16)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)  # import fails
    with pytest.raises(WeightsError, match="needs the safetensors package"):
        read_arrays(path, _error)
    assert "pip install" in NO_SAFETENSORS


def test_writing_refuses_an_unknown_suffix_before_writing(tmp_path):
    refused = r"test weights path .* must end in \.safetensors or \.npz"
    with pytest.raises(ValueError, match=refused):
        write_arrays(tmp_path / "w.pth", {"a": np.zeros(2)}, "test weights")
    assert not (tmp_path / "w.pth").exists()
