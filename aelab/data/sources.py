"""Named data sets: the `DATASETS` registry and the functions that reach a data set by
the name in `config.data` (`dataset_info`, `load_split`).

`load_split(data_config, split)` returns a `RecordSource` (`aelab.data.records`) and a
`DatasetInfo`. The data sets register in their own modules:

  digits           scikit-learn's bundled 8x8 digits; offline, no files needed (digits).
  mnist, fashion_mnist, binarized_mnist, ecg5000
                   raw files in `<data dir>/<name>/` (the data dir is `config.data_dir`,
                   else `$AELAB_DATA_DIR`), prepared once by aelab's TFDS builders into
                   `config.tfds_data_dir` (else `$AELAB_TFDS_DIR`, else
                   `~/.cache/aelab/tensorflow_datasets`) and read back from there
                   (local_files).
  dsprites, dsprites_small
                   dSprites' 64x64 sprites generated from their five factors, made when
                   asked for; offline (dsprites).
  npz              a user `.npz` file (`config.path`; records in the file's order; npz).
  arrays           NumPy arrays registered in this process by `register_arrays`, named
                   by their content fingerprint (`config.arrays`; arrays).
  image_folder     a folder of `<class>/` (or `<split>/<class>/`) image files, read with
                   Pillow and prepared once by a TFDS builder (`config.path`;
                   image_folder).
  table            a CSV, TSV or Parquet table of numbers, or a folder of one per split,
                   read into memory (`config.path`; table).
  tfds:<name>      any TFDS data set already prepared (as array_record) in a TFDS data
                   dir (tfds_catalog).

Options: `DataSourceOptions` (every data set) and each data set's own.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import ml_collections

from aelab.core.options import NoOptions, Options, option, options_class
from aelab.core.registry import Registry, UnknownNameError
from aelab.core.schema import Selector
from aelab.data.errors import DataError
from aelab.data.records import DatasetInfo, RecordSource

DEFAULT_TFDS_DIR = "~/.cache/aelab/tensorflow_datasets"


@options_class
class DataSourceOptions(Options):
    """`config.data` options of where a data set's files are."""

    data_dir: str | None = option(
        None, "the folder holding <name>/ with the raw files (None: $AELAB_DATA_DIR)"
    )
    tfds_data_dir: str | None = option(
        None,
        "where prepared records go and are read (None: $AELAB_TFDS_DIR, else "
        "~/.cache/aelab/tensorflow_datasets)",
    )
    in_memory: bool = option(
        True, "read a split into memory once (False: read records lazily from disk)"
    )


class _Dataset(Protocol):
    """One registered data set."""

    def info(self, data_config: ml_collections.ConfigDict) -> DatasetInfo: ...

    def load(
        self, data_config: ml_collections.ConfigDict, split: str
    ) -> tuple[RecordSource, DatasetInfo]: ...


DATASETS: Registry[_Dataset] = Registry("data set")


# Open families of names: {prefix: function(rest of the name) -> data set}, e.g. "tfds:",
# and the options each family brings (filled by `register_prefix`).
PREFIXED_DATASETS: dict[str, Callable[[str], _Dataset]] = {}
PREFIX_OPTIONS: dict[str, type[Options]] = {}
DATA_SELECTOR = Selector(
    "name",
    DATASETS,
    choice="data",
    default="digits",
    doc="the data set (aelab.data.list_datasets())",
    prefixes=PREFIX_OPTIONS,
)


def register_prefix(
    prefix: str, make: Callable[[str], _Dataset], options: type[Options] = NoOptions
) -> None:
    """Registers an open family of data set names, `<prefix><name>`: `make(name)` gives
    the data set, `options` its options."""
    PREFIXED_DATASETS[prefix] = make
    PREFIX_OPTIONS[prefix] = options


def source_options(data_config: ml_collections.ConfigDict) -> DataSourceOptions:
    return DataSourceOptions.from_section(data_config, path="data")


def data_root(data_config: ml_collections.ConfigDict) -> Path | None:
    """`data_config.data_dir`, else `$AELAB_DATA_DIR`, else None."""
    root = source_options(data_config).data_dir or os.environ.get("AELAB_DATA_DIR")
    return Path(root).expanduser() if root else None


def user_path(data_config: ml_collections.ConfigDict, path: str) -> Path:
    """A path a user gave in `config.data` (`~` expanded); a relative one is taken from
    the data dir (`data_root`) when there is one, else from the working directory."""
    resolved = Path(path).expanduser()
    root = data_root(data_config)
    return root / resolved if not resolved.is_absolute() and root is not None else resolved


def tfds_dir(data_config: ml_collections.ConfigDict) -> Path:
    """Where aelab's builders write: `tfds_data_dir`, `$AELAB_TFDS_DIR`, or the default."""
    path = (
        source_options(data_config).tfds_data_dir
        or os.environ.get("AELAB_TFDS_DIR")
        or DEFAULT_TFDS_DIR
    )
    return Path(path).expanduser()


def _dataset(data_config: ml_collections.ConfigDict) -> _Dataset:
    name = DATA_SELECTOR.value(data_config)
    if not name:
        raise DataError(f"The data config needs a name; one of {list_datasets()}.")
    for prefix, make in PREFIXED_DATASETS.items():
        if name.startswith(prefix) and len(name) > len(prefix):
            return make(name.removeprefix(prefix))
    try:
        return DATASETS.get(name)
    except UnknownNameError as e:
        others = "".join(f" Or '{prefix}<name>'." for prefix in PREFIXED_DATASETS)
        raise UnknownNameError(f"{e}{others}") from None


def list_datasets() -> list[str]:
    """The registered data set names (any `tfds:<name>` works as well)."""
    return DATASETS.names()


def dataset_info(data_config: ml_collections.ConfigDict) -> DatasetInfo:
    """What the data set named by `data_config.name` looks like (shapes, scale, splits).

    Raises:
      UnknownNameError: unknown name (the message lists the valid ones).
      DataError: for `npz` and `tfds:` sets, a missing or malformed file.
    """
    return _dataset(data_config).info(data_config)


def load_split(
    data_config: ml_collections.ConfigDict, split: str
) -> tuple[RecordSource, DatasetInfo]:
    """Opens one split of the data set named by `data_config.name`.

    Prepares aelab's TFDS records on first use (once; concurrent first use by several
    processes is safe).

    Args:
      data_config: see the module docstring for the fields read.
      split: a split name, a TFDS slice (`train[:90%]`, `train[50000:]`) or a sum
        (`train+test`).

    Returns:
      `(source, info)`: random access to the split's records, and the data set's info.

    Raises:
      UnknownNameError: unknown name (the message lists the valid ones).
      DataError: missing or malformed files, unknown split, or an unprepared `tfds:` set.
    """
    return _dataset(data_config).load(data_config, split)
