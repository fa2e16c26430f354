"""Fixtures for the data tests: a private TFDS dir and tiny configs."""

from __future__ import annotations

from pathlib import Path

import ml_collections
import pytest


@pytest.fixture(autouse=True)
def _private_tfds_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never let a test prepare into the user's ~/.cache, whatever a config forgets."""
    monkeypatch.setenv("AELAB_TFDS_DIR", str(tmp_path / "default_tfds"))


@pytest.fixture
def make_config(tmp_path: Path):
    """Builds data configs with the fields `load_split` reads, preparing into tmp_path."""

    def make(name: str, **fields) -> ml_collections.ConfigDict:
        config = ml_collections.ConfigDict(
            {
                "name": name,
                "data_dir": None,
                "tfds_data_dir": str(tmp_path / "tfds"),
                "path": None,
                "in_memory": True,
            }
        )
        config.update(fields)
        return config

    return make
