"""The file suffixes a weights file may have, as a pytest parameter list: `.safetensors`
is skipped where the safetensors package is not installed."""

import importlib.util

import pytest

HAS_SAFETENSORS = importlib.util.find_spec("safetensors") is not None
WEIGHTS_SUFFIXES = [
    ".npz",
    pytest.param(
        ".safetensors",
        marks=pytest.mark.skipif(not HAS_SAFETENSORS, reason="safetensors not installed"),
    ),
]
