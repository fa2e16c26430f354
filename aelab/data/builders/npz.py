"""Any user `.npz` file of one array per split: its validated config and its builder."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import tensorflow_datasets as tfds

from aelab.data import readers
from aelab.data.builders.features import array_feature
from aelab.data.errors import DataError
from aelab.data.split_layout import (
    check_split_layout,
    num_classes_of,
    value_max_of,
)


@dataclasses.dataclass(eq=False)
class NpzConfig(tfds.core.BuilderConfig):
    """Describes one user `.npz` file; build it with `npz_config(path)`.

    Attributes:
      path: the file.
      input_key: the feature name of the inputs ("image", "series", "inputs", ...).
      input_shape: per-example shape of the inputs, as stored.
      input_dtype: NumPy dtype name of the inputs (bool is stored as uint8).
      splits: the splits the file holds, e.g. ("train", "test").
      labelled: whether every split has `<split>_labels`.
    """

    path: str = ""
    input_key: str = "image"
    input_shape: tuple[int, ...] = ()
    input_dtype: str = "float32"
    splits: tuple[str, ...] = ()
    labelled: bool = False


def npz_config(path: str | os.PathLike, input_key: str = "image") -> NpzConfig:
    """Validates a user `.npz` file and returns the config that names its prepared data.

    The file holds one array per split, `train` and `test` (required) and `validation`
    (optional), each `[N, ...]` with the same per-example shape and dtype, and optionally
    integer class labels `<split>_labels` `[N]` (for every split or for none; see
    `aelab.data.split_layout`). The config name is the file's stem plus a hash of its
    bytes and `input_key`, so an edited file is prepared again and an unchanged one
    (even moved) is not.

    Raises:
      DataError: missing or corrupt file, unexpected keys, or inconsistent arrays.
    """
    path = Path(path).expanduser().resolve()
    layout = check_split_layout(readers.read_npz_headers(path), where=f".npz file {path}")
    digest = hashlib.sha256(input_key.encode())
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    stem = re.sub(r"[^a-zA-Z0-9_]+", "_", path.name.removesuffix(".npz")).strip("_") or "data"
    return NpzConfig(
        name=f"{stem}_{digest.hexdigest()[:16]}",
        description=f"Arrays from {path}.",
        path=os.fspath(path),
        input_key=input_key,
        input_shape=layout.example_shape,
        input_dtype="uint8" if layout.dtype == np.bool_ else layout.dtype.name,
        splits=layout.splits,
        labelled=layout.labelled,
    )


class AelabNpz(tfds.core.GeneratorBasedBuilder):
    """Any `.npz` file of one array per split; see `npz_config` for the layout.

    Features: `<config.input_key>` (per-example shape and dtype as stored; bool becomes
    uint8) and, when the file has labels, `label` int64. `metadata['value_max']` is the
    largest input value for integer or bool inputs and None for floats (taken as already
    scaled; see `aelab.data.split_layout.value_max_of`); `metadata['num_classes']` is
    the largest label + 1, or None.

    Records keep the file's order (`disable_shuffling`: record `i` of a split is row `i`
    of its array), so a user's own split order, and slices such as `test[:100]`, mean
    what they say.
    """

    # 1.1.0 changed the record order: a new version folder, so that copies prepared
    # (shuffled) by 1.0.0 are never read as if they were in order.
    VERSION = tfds.core.Version("1.1.0")
    RELEASE_NOTES: ClassVar[dict[str, str]] = {
        "1.0.0": "First version.",
        "1.1.0": "Records in the file's order (no shuffling on write); value_max at least "
        "1 and None for negative integers.",
    }
    MANUAL_DOWNLOAD_INSTRUCTIONS = "Give the .npz file's path in the builder config."

    def _info(self) -> tfds.core.DatasetInfo:
        config = self.builder_config
        if config is None:
            raise DataError("AelabNpz needs a config: AelabNpz(config=npz_config(path), ...).")
        features = {
            config.input_key: array_feature(config.input_shape, np.dtype(config.input_dtype))
        }
        if config.labelled:
            features["label"] = tfds.features.Tensor(shape=(), dtype=np.int64)
        return tfds.core.DatasetInfo(
            builder=self,
            description=self.__doc__,
            features=tfds.features.FeaturesDict(features),
            metadata=tfds.core.MetadataDict(value_max=None, num_classes=None),
            disable_shuffling=True,
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager) -> dict[str, Any]:
        del dl_manager  # The config names the one file.
        config = self.builder_config
        arrays = readers.read_npz(config.path)
        inputs = {split: arrays[split] for split in config.splits}
        self.info.metadata["value_max"] = value_max_of(inputs.values())
        if config.labelled:
            labels = {split: arrays[f"{split}_labels"].astype(np.int64) for split in config.splits}
            where = f".npz file {config.path}"
            self.info.metadata["num_classes"] = num_classes_of(labels.values(), where)
        else:
            labels = dict.fromkeys(config.splits)
        return {
            split: self._generate_examples(inputs[split], labels[split]) for split in config.splits
        }

    def _generate_examples(
        self, inputs: np.ndarray, labels: np.ndarray | None
    ) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
        key = self.builder_config.input_key
        inputs = inputs.astype(self.builder_config.input_dtype, copy=False)
        for index in range(len(inputs)):
            example = {key: inputs[index]}
            if labels is not None:
                example["label"] = labels[index]
            yield index, example
