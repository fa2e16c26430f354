"""Named data sets and the random-access record sources the input pipeline reads.

`load_split(data_config, split)` returns a `RecordSource` (records are dicts of NumPy
arrays, e.g. `{'image': uint8 [28, 28, 1], 'label': int64 []}`) and a `DatasetInfo`.
Data sets are registered by name in `DATASETS`:

  digits           scikit-learn's bundled 8x8 digits; offline, no files needed.
  mnist, fashion_mnist, binarized_mnist, ecg5000
                   raw files in `<data dir>/<name>/` (the data dir is `config.data_dir`,
                   else `$AELAB_DATA_DIR`), prepared once by aelab's TFDS builders into
                   `config.tfds_data_dir` (else `$AELAB_TFDS_DIR`, else
                   `~/.cache/aelab/tensorflow_datasets`) and read back from there.
  npz              a user `.npz` file (`config.path`), see `builders.npz_config`.
  tfds:<name>      any TFDS data set already prepared (as array_record) in a TFDS data
                   dir: `config.tfds_data_dir`, else `$AELAB_TFDS_DIR`, else TFDS's own
                   default (`$TFDS_DATA_DIR` or `~/tensorflow_datasets`).

Config fields read (all optional but `name`, read with `.get` so older configs work):
  name, data_dir, tfds_data_dir, path (npz), input_key (npz, default "image"),
  in_memory (default True: read a split into NumPy arrays once; False reads records
  lazily from the array_record files).

Records of the TFDS-backed sets come in the order TFDS wrote them: shuffled on write
(the same order on every preparation), not the order of the raw files.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import operator
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from aelab.data.errors import DataError
from aelab.registry import Registry, UnknownNameError

if TYPE_CHECKING:
    import ml_collections
    import tensorflow_datasets as tfds

logger = logging.getLogger(__name__)

TFDS_PREFIX = "tfds:"
DEFAULT_TFDS_DIR = "~/.cache/aelab/tensorflow_datasets"
_INPUT_KEYS = ("image", "series", "inputs")
# TFDS is imported on first use, not at `import aelab.data`: it takes ~0.7 s to import
# and neither `digits` nor `DatasetInfo` needs it.


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What a data set looks like, for building a model and scaling its inputs.

    Attributes:
      name: the registered name, e.g. "mnist" or "tfds:mnist".
      input_key: the record key of the model input: "image" or "series" (or "inputs").
      input_shape: per-example input shape: (28, 28, 1), (8, 8, 1), (140, 1).
      value_max: the largest raw input value, to scale inputs to [0, 1]: 255 for uint8
        images, 16 for digits, 1 for binarized MNIST; None for real-valued inputs.
      num_classes: number of label classes; None when records have no `label`.
      splits: split name -> number of examples, for the data set's own splits.
    """

    name: str
    input_key: str
    input_shape: tuple[int, ...]
    value_max: float | None
    num_classes: int | None
    splits: dict[str, int]


class RecordSource(Protocol):
    """Random access to the records of one split; usable as a grain data source."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        """One record, e.g. `{'image': [28, 28, 1], 'label': []}`."""
        ...

    def get_batch(self, indices: np.ndarray) -> dict[str, np.ndarray]:
        """The records at `indices` `[B]`, stacked: `{'image': [B, 28, 28, 1], 'label': [B]}`."""
        ...

    def __repr__(self) -> str:
        """Name, split and path only: grain compares it across processes on restore."""
        ...


def _check_index(index: int, length: int) -> int:
    """Returns `index` as a non-negative int, with Python's rules for negative ones."""
    index = operator.index(index)
    if not -length <= index < length:
        raise IndexError(f"Record index {index} is out of range for {length} records.")
    return index % length


def _check_indices(indices: np.ndarray, length: int) -> np.ndarray:
    """Returns `indices` as a 1-D int64 array of non-negative indices."""
    indices = np.asarray(indices)
    if indices.ndim != 1 or (indices.size and indices.dtype.kind not in "iu"):
        raise TypeError(
            f"indices must be a 1-D integer array; got {indices.dtype} {indices.shape}."
        )
    indices = indices.astype(np.int64)
    if indices.size and (indices.min() < -length or indices.max() >= length):
        raise IndexError(f"Record indices out of range for {length} records.")
    return indices % max(length, 1)


class ArraySource:
    """Records held in memory as arrays that share a leading axis.

    Records and batches are read-only views or copies: the arrays are marked read-only
    so that a transform writing in place fails loudly instead of changing the source.
    """

    def __init__(
        self,
        arrays: Mapping[str, np.ndarray],
        *,
        name: str,
        split: str,
        path: str | None = None,
    ):
        """Wraps `arrays` (`{key: [N, ...]}`); `name`, `split`, `path` only go into repr."""
        lengths = {len(array) for array in arrays.values()}
        if len(lengths) != 1:
            raise ValueError(f"Arrays of one split must share their length; got {lengths}.")
        # Read-only views: the caller's arrays stay writable, records from here do not.
        self._arrays = {key: np.asarray(array).view() for key, array in arrays.items()}
        for array in self._arrays.values():
            array.setflags(write=False)
        self._length = lengths.pop()
        self._name, self._split, self._path = name, split, path

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        index = _check_index(index, self._length)
        # `[index, ...]` keeps scalars as 0-d arrays, like the batched path's dtypes.
        return {key: array[index, ...] for key, array in self._arrays.items()}

    def get_batch(self, indices: np.ndarray) -> dict[str, np.ndarray]:
        indices = _check_indices(indices, self._length)
        return {key: array[indices] for key, array in self._arrays.items()}

    def __repr__(self) -> str:
        return f"ArraySource(name={self._name!r}, split={self._split!r}, path={self._path!r})"


class TfdsSource:
    """Records read lazily, one by one, from a prepared TFDS data set's array_record files."""

    def __init__(
        self,
        data_source: Any,
        *,
        specs: Mapping[str, tuple[tuple[int, ...], np.dtype]],
        name: str,
        split: str,
        path: str,
    ):
        """Wraps a `builder.as_data_source(split)`; `specs` maps keys to (shape, dtype)."""
        self._source = data_source
        self._specs = dict(specs)
        self._name, self._split, self._path = name, split, path

    def __len__(self) -> int:
        return len(self._source)

    def _convert(self, record: Mapping[str, Any]) -> dict[str, np.ndarray]:
        # TFDS decodes scalar features to Python ints: make every value an array.
        return {
            key: np.asarray(record[key], dtype=dtype) for key, (_, dtype) in self._specs.items()
        }

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        return self._convert(self._source[_check_index(index, len(self))])

    def get_batch(self, indices: np.ndarray) -> dict[str, np.ndarray]:
        indices = _check_indices(indices, len(self))
        if not indices.size:
            return {
                key: np.empty((0, *(dim or 0 for dim in shape)), dtype)
                for key, (shape, dtype) in self._specs.items()
            }
        records = [self._convert(record) for record in self._source.__getitems__(indices.tolist())]
        return {key: np.stack([record[key] for record in records]) for key in self._specs}

    def __repr__(self) -> str:
        return f"TfdsSource(name={self._name!r}, split={self._split!r}, path={self._path!r})"


class _Dataset(Protocol):
    """One registered data set."""

    def info(self, data_config: ml_collections.ConfigDict) -> DatasetInfo: ...

    def load(
        self, data_config: ml_collections.ConfigDict, split: str
    ) -> tuple[RecordSource, DatasetInfo]: ...


DATASETS: Registry[_Dataset] = Registry("data set")


def _data_root(data_config: ml_collections.ConfigDict) -> Path | None:
    """`data_config.data_dir`, else `$AELAB_DATA_DIR`, else None."""
    root = data_config.get("data_dir", None) or os.environ.get("AELAB_DATA_DIR")
    return Path(root).expanduser() if root else None


def tfds_dir(data_config: ml_collections.ConfigDict) -> Path:
    """Where aelab's builders write: `tfds_data_dir`, `$AELAB_TFDS_DIR`, or the default."""
    path = (
        data_config.get("tfds_data_dir", None)
        or os.environ.get("AELAB_TFDS_DIR")
        or DEFAULT_TFDS_DIR
    )
    return Path(path).expanduser()


def _specs(builder: tfds.core.DatasetBuilder) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Per-example `(shape, dtype)` of each top-level feature of a TFDS builder."""
    return {
        key: (tuple(feature.shape), np.dtype(feature.np_dtype))
        for key, feature in builder.info.features.items()
    }


def _read_split(
    builder: tfds.core.DatasetBuilder, *, name: str, split: str, in_memory: bool
) -> RecordSource:
    """A record source for `split` (TFDS slicing syntax allowed) of a prepared builder."""
    try:
        data_source = builder.as_data_source(split=split)
    except (ValueError, KeyError, AssertionError) as e:
        raise DataError(
            f"Cannot read split {split!r} of data set {name!r} ({builder.data_dir}): {e}\n"
            f"Its splits: {list(builder.info.splits)}; slices such as 'train[:90%]' or "
            "'train[50000:]' and sums such as 'train+test' work too."
        ) from None
    except NotImplementedError:
        raise DataError(
            f"Data set {name!r} in {builder.data_dir} is not stored as array_record, which "
            "random access needs. Prepare it again with file_format='array_record' (for "
            "the tfds command line: tfds build NAME --file_format=array_record)."
        ) from None
    specs, path = _specs(builder), os.fspath(builder.data_dir)
    reader = TfdsSource(data_source, specs=specs, name=name, split=split, path=path)
    if not in_memory:
        return reader
    chunk = 8192  # Bounds the number of decoded Python dicts alive at once.
    batches = [
        reader.get_batch(np.arange(start, min(start + chunk, len(reader))))
        for start in range(0, len(reader), chunk)
    ] or [reader.get_batch(np.arange(0))]
    arrays = {key: np.concatenate([batch[key] for batch in batches]) for key in specs}
    return ArraySource(arrays, name=name, split=split, path=path)


def _info_from_builder(builder: tfds.core.DatasetBuilder, name: str) -> DatasetInfo:
    """A DatasetInfo for a prepared TFDS data set, from its features and metadata.

    `value_max` and `num_classes` come from `metadata` when aelab's builders wrote them;
    otherwise `value_max` is 255 for uint8 inputs (None for others) and `num_classes`
    comes from a `ClassLabel` feature named `label`.
    """
    import tensorflow_datasets as tfds

    features = builder.info.features
    input_key = next((key for key in _INPUT_KEYS if key in features.keys()), None)
    if input_key is None:
        raise DataError(
            f"Data set {name!r} ({builder.data_dir}) has features {list(features.keys())}; "
            f"aelab needs one named {' or '.join(_INPUT_KEYS)} as the model input."
        )
    shape, dtype = _specs(builder)[input_key]
    if None in shape:
        raise DataError(
            f"Data set {name!r}: input '{input_key}' has a variable shape {shape}; aelab "
            "needs a fixed per-example shape."
        )
    metadata = dict(builder.info.metadata or {})
    value_max = metadata.get("value_max", 255 if dtype == np.uint8 else None)
    label = features["label"] if "label" in features.keys() else None
    num_classes = metadata.get("num_classes")
    if isinstance(label, tfds.features.ClassLabel):
        num_classes = label.num_classes
    return DatasetInfo(
        name=name,
        input_key=input_key,
        input_shape=shape,
        value_max=None if value_max is None else float(value_max),
        num_classes=None if num_classes is None else int(num_classes),
        splits={split: info.num_examples for split, info in builder.info.splits.items()},
    )


def _open_prepared(
    builder_cls: type[tfds.core.DatasetBuilder], data_config: ml_collections.ConfigDict
) -> tfds.core.DatasetBuilder | None:
    """The builder if its data is prepared in the TFDS dir, else None."""
    builder = builder_cls(data_dir=tfds_dir(data_config), file_format="array_record")
    # TFDS logs a warning when asked about a folder that does not exist yet.
    return builder if builder.data_path.exists() and builder.is_prepared() else None


@dataclasses.dataclass(frozen=True)
class _LocalFilesDataset:
    """A data set prepared from raw files in `<data dir>/<folder>/` by an aelab builder."""

    static_info: DatasetInfo  # The standard files' info; split sizes follow the files used.
    builder_name: str  # A class in `aelab.data.builders`.

    def _with_sizes(self, builder: tfds.core.DatasetBuilder) -> DatasetInfo:
        sizes = {split: info.num_examples for split, info in builder.info.splits.items()}
        return dataclasses.replace(self.static_info, splits=sizes)

    def info(self, data_config: ml_collections.ConfigDict) -> DatasetInfo:
        from aelab.data import builders

        builder = _open_prepared(getattr(builders, self.builder_name), data_config)
        return self.static_info if builder is None else self._with_sizes(builder)

    def _folder(self, data_config: ml_collections.ConfigDict, instructions: str) -> Path:
        root = _data_root(data_config)
        folder = self.static_info.name
        if root is None:
            raise DataError(
                f"Data set {folder!r} is not prepared in {tfds_dir(data_config)} and no data "
                f"folder is set: set AELAB_DATA_DIR (or config.data.data_dir) to the folder "
                f"holding {folder}/.\n{instructions}"
            )
        if not (root / folder).is_dir():
            raise DataError(
                f"Data folder {root / folder} does not exist. Set AELAB_DATA_DIR (or "
                f"config.data.data_dir) to the folder holding {folder}/ (now {root}).\n"
                f"{instructions}"
            )
        return root / folder

    def load(
        self, data_config: ml_collections.ConfigDict, split: str
    ) -> tuple[RecordSource, DatasetInfo]:
        from aelab.data import builders

        builder_cls = getattr(builders, self.builder_name)
        builder = _open_prepared(builder_cls, data_config)
        if builder is None:
            folder = self._folder(data_config, builder_cls.MANUAL_DOWNLOAD_INSTRUCTIONS)
            builder = builders.prepare(
                builder_cls, tfds_dir=tfds_dir(data_config), manual_dir=folder
            )
        metadata = builder.info.metadata or {}
        # Only ECG5000 writes `test_source`: its test split may come from a rounded CSV.
        if metadata.get("test_source") == builders.AelabEcg5000.CSV_NAME and (
            "test" in split or "all" in split
        ):
            _warn_rounded_ecg_test(os.fspath(builder.data_dir))
        source = _read_split(
            builder,
            name=self.static_info.name,
            split=split,
            in_memory=data_config.get("in_memory", True),
        )
        return source, self._with_sizes(builder)


@functools.cache
def _warn_rounded_ecg_test(path: str) -> None:
    """Logs, once a process, that ECG5000's test split came from the 5-digit CSV."""
    logger.warning(
        "ECG5000 in %s: the test split was read from ecg5000_5sig.csv, rounded to about 5 "
        "significant digits (up to ~5e-5 off the UCR values). Put ECG5000_TEST.arff in the "
        "data folder and delete this prepared folder for the exact values.",
        path,
    )


_IMAGE_SPLITS = {"train": 60_000, "test": 10_000}
DATASETS.register("mnist")(
    _LocalFilesDataset(
        DatasetInfo("mnist", "image", (28, 28, 1), 255.0, 10, _IMAGE_SPLITS), "AelabMnist"
    )
)
DATASETS.register("fashion_mnist")(
    _LocalFilesDataset(
        DatasetInfo("fashion_mnist", "image", (28, 28, 1), 255.0, 10, _IMAGE_SPLITS),
        "AelabFashionMnist",
    )
)
DATASETS.register("binarized_mnist")(
    _LocalFilesDataset(
        DatasetInfo(
            "binarized_mnist",
            "image",
            (28, 28, 1),
            1.0,
            None,
            {"train": 50_000, "validation": 10_000, "test": 10_000},
        ),
        "AelabBinarizedMnist",
    )
)
DATASETS.register("ecg5000")(
    _LocalFilesDataset(
        DatasetInfo("ecg5000", "series", (140, 1), None, 5, {"train": 500, "test": 4_500}),
        "AelabEcg5000",
    )
)


_SPLIT_PART = re.compile(r"^(?P<split>\w+)(?:\[(?P<start>-?\d+%?)?:(?P<stop>-?\d+%?)?\])?$")


def _slice_bound(text: str | None, size: int, spec: str) -> int | None:
    """A slice boundary `12`, `-5` or `90%` as an index into `size` items (TFDS rounding)."""
    if text is None:
        return None
    if text.endswith("%"):
        percent = float(text[:-1])
        if abs(percent) > 100:
            raise DataError(f"Split {spec!r}: {text} is not a percentage in [-100%, 100%].")
        return round(percent * size / 100)
    if abs(int(text)) > size:
        raise DataError(f"Split {spec!r}: boundary {text} is outside a split of {size}.")
    return int(text)


def select_split(spec: str, splits: Mapping[str, np.ndarray]) -> np.ndarray:
    """Indices for a split spec over named index arrays, in TFDS's split syntax.

    Args:
      spec: a split name (`train`), a slice (`train[:90%]`, `train[100:]`, `test[-50:]`)
        or a sum of them (`train+test`). Percentages round to the closest index.
      splits: split name -> indices `[N_split]`.

    Returns:
      int64 indices `[N]`.
    """
    parts = []
    for part in spec.split("+"):
        match = _SPLIT_PART.match(part.strip())
        if match is None or match["split"] not in splits:
            raise DataError(
                f"Unknown split {spec!r}: expected one of {sorted(splits)}, optionally "
                "sliced like 'train[:90%]' or 'train[100:]', or a sum like 'train+test'."
            )
        indices = splits[match["split"]]
        start = _slice_bound(match["start"], len(indices), spec)
        stop = _slice_bound(match["stop"], len(indices), spec)
        parts.append(indices[start:stop])
    return np.concatenate(parts).astype(np.int64)


@functools.cache
def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits: uint8 images [1797, 8, 8, 1] in 0..16, int64 labels [1797]."""
    from sklearn.datasets import load_digits  # ~1 s to import; only digits needs it.

    digits = load_digits()
    images = digits.images.astype(np.uint8)[..., None]
    return images, digits.target.astype(np.int64)


DIGITS_TEST_SIZE = 360


class _DigitsDataset:
    """scikit-learn's bundled 8x8 digits (1,797 images, 0..16, labels 0..9); offline.

    A fixed permutation (`np.random.default_rng(0)`) puts the first 360 images in `test`
    and the other 1,437 in `train`. Split specs also accept `validation`, which is
    `train[90%:]` (the last 144 train images; train on `train[:90%]` when you use it),
    `all` (`train+test`, 1,797), slices like `train[:100]` and sums like `train+test`.
    Always in memory, whatever `config.in_memory` says.
    """

    def _splits(self) -> dict[str, np.ndarray]:
        order = np.random.default_rng(0).permutation(len(_digits_arrays()[0]))
        test, train = order[:DIGITS_TEST_SIZE], order[DIGITS_TEST_SIZE:]
        validation_start = round(0.9 * len(train))
        return {
            "train": train,
            "test": test,
            "validation": train[validation_start:],
            "all": np.concatenate([train, test]),
        }

    def info(self, data_config: ml_collections.ConfigDict) -> DatasetInfo:
        del data_config  # Fixed data.
        num_examples = 1_797
        return DatasetInfo(
            name="digits",
            input_key="image",
            input_shape=(8, 8, 1),
            value_max=16.0,
            num_classes=10,
            splits={"train": num_examples - DIGITS_TEST_SIZE, "test": DIGITS_TEST_SIZE},
        )

    def load(
        self, data_config: ml_collections.ConfigDict, split: str
    ) -> tuple[RecordSource, DatasetInfo]:
        indices = select_split(split, self._splits())
        images, labels = _digits_arrays()
        source = ArraySource(
            {"image": images[indices], "label": labels[indices]},
            name="digits",
            split=split,
            path="sklearn.datasets.load_digits",
        )
        return source, self.info(data_config)


DATASETS.register("digits")(_DigitsDataset())


class _NpzDataset:
    """A user `.npz` file: `config.path` (relative paths are taken from the data dir).

    Layout: see `aelab.data.builders.npz_config`. `config.input_key` (default "image";
    "image", "series" or "inputs") names the input feature. Prepared once into the TFDS
    dir, keyed by the file's hash.
    """

    def _builder(self, data_config: ml_collections.ConfigDict) -> tfds.core.DatasetBuilder:
        from aelab.data import builders

        path = data_config.get("path", None)
        if not path:
            raise DataError(
                "Data set 'npz' needs config.data.path: a .npz file with arrays 'train' and "
                "'test' (optionally 'validation' and '<split>_labels')."
            )
        path = Path(path).expanduser()
        root = _data_root(data_config)
        if not path.is_absolute() and root is not None:
            path = root / path
        input_key = data_config.get("input_key", "image")
        if input_key not in _INPUT_KEYS:
            raise DataError(
                f"config.data.input_key is {input_key!r}; expected one of {list(_INPUT_KEYS)}."
            )
        config = builders.npz_config(path, input_key=input_key)
        return builders.prepare(builders.AelabNpz, tfds_dir=tfds_dir(data_config), config=config)

    def info(self, data_config: ml_collections.ConfigDict) -> DatasetInfo:
        return _info_from_builder(self._builder(data_config), name="npz")

    def load(
        self, data_config: ml_collections.ConfigDict, split: str
    ) -> tuple[RecordSource, DatasetInfo]:
        builder = self._builder(data_config)
        in_memory = data_config.get("in_memory", True)
        source = _read_split(builder, name="npz", split=split, in_memory=in_memory)
        return source, _info_from_builder(builder, name="npz")


DATASETS.register("npz")(_NpzDataset())


@dataclasses.dataclass(frozen=True)
class _TfdsCatalogDataset:
    """`tfds:<name>`: a TFDS data set already prepared (as array_record) in a TFDS data dir."""

    tfds_name: str

    def _builder(self, data_config: ml_collections.ConfigDict) -> tfds.core.DatasetBuilder:
        import tensorflow_datasets as tfds

        data_dir = data_config.get("tfds_data_dir", None) or os.environ.get("AELAB_TFDS_DIR")
        where = data_dir or "TFDS's default data dir ($TFDS_DATA_DIR or ~/tensorflow_datasets)"
        how_to_prepare = (
            "aelab reads TFDS data sets but does not prepare TFDS's own builders: for image "
            "sets that needs TensorFlow (PNG encoding), and most download their files. "
            f"Prepare it on a machine with both (tfds build {self.tfds_name} "
            "--file_format=array_record --data_dir=DIR), copy DIR here and set "
            "config.data.tfds_data_dir (or AELAB_TFDS_DIR) to it. For MNIST, Fashion-MNIST, "
            "binarized MNIST and ECG5000 use aelab's own names (mnist, ...), which prepare "
            "from local files."
        )
        try:
            builder = tfds.builder(self.tfds_name, data_dir=data_dir)
        except (ValueError, AssertionError, ImportError) as e:
            first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise DataError(
                f"No TFDS data set {self.tfds_name!r} in {where}: {first_line}\n{how_to_prepare}"
            ) from None
        if not builder.is_prepared():
            raise DataError(
                f"TFDS data set {self.tfds_name!r} is not prepared in {where}.\n{how_to_prepare}"
            )
        return builder

    def info(self, data_config: ml_collections.ConfigDict) -> DatasetInfo:
        return _info_from_builder(self._builder(data_config), name=TFDS_PREFIX + self.tfds_name)

    def load(
        self, data_config: ml_collections.ConfigDict, split: str
    ) -> tuple[RecordSource, DatasetInfo]:
        builder, name = self._builder(data_config), TFDS_PREFIX + self.tfds_name
        in_memory = data_config.get("in_memory", True)
        source = _read_split(builder, name=name, split=split, in_memory=in_memory)
        return source, _info_from_builder(builder, name=name)


def _dataset(data_config: ml_collections.ConfigDict) -> _Dataset:
    name = data_config.get("name", None)
    if not name:
        raise DataError(f"The data config needs a name; one of {list_datasets()}.")
    if name.startswith(TFDS_PREFIX) and len(name) > len(TFDS_PREFIX):
        return _TfdsCatalogDataset(name.removeprefix(TFDS_PREFIX))
    try:
        return DATASETS.get(name)
    except UnknownNameError as e:
        raise UnknownNameError(
            f"{e} Or 'tfds:<name>' for a data set prepared in a TFDS data dir."
        ) from None


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
