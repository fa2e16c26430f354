"""dSprites (Matthey et al. 2017): 64 x 64 binary images of a sprite generated from five
factors, made offline and served by index (`dsprites`, and `dsprites_small` for tests).

Factors, in index order (the original's `latents_classes` without its one color):
shape (square, ellipse, heart), scale (6 values linearly in [0.5, 1]), orientation (40
values 2 pi k / 40 in [0, 2 pi)), position x and position y (32 values each in [0, 1]).
Record `i` has the factor classes `np.unravel_index(i, (3, 6, 40, 32, 32))`, so
`np.ravel_multi_index` of the original's classes is the record's index.

Images are made on the fly: the 720 (shape, scale, orientation) sprites are rasterised
once (`aelab.data.sprite_shapes`), and a record is its sprite shifted to its position
(position class k moves the sprite k pixels right (x) or down (y); the sprite's centre
is at pixel 16 + k). The 737,280 images (3 GB) never exist at once. With
`config.data.images = "original"` the images are instead the original file's
(`aelab.data.dsprites_file`), read once into memory as bits.

Records: `image` uint8 [64, 64, 1] in {0, 1}; `label` int64, the shape class;
`factors` int64 [5], the factor classes; `factor_values` float32 [5], the factor values
(shape 1, 2, 3 as in the original; scale; orientation in radians; x; y). The sources
also offer `aelab.data.factors.FactorSource` (records for any factor classes).

Splits (the original has none): `test` is a fixed random 10% of the records (the first
tenth of `np.random.default_rng(0).permutation`), `train` the other 90% (in that random
order, so its slices such as `train[:90%]` are random subsets too), `all` every record
in index order (the usual disentanglement setting, which trains and evaluates on all).

`dsprites_small` is the sub-grid of every shape, every 2nd scale, every 10th orientation
and every 4th position (3 x 3 x 4 x 8 x 8 = 2,304 images, each an image of `dsprites`);
its `factors` are classes of that sub-grid (0..2, 0..2, 0..3, 0..7, 0..7).
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import ml_collections
import numpy as np

from aelab.core.options import Options, option, options_class
from aelab.data import dsprites_file
from aelab.data.errors import DataError
from aelab.data.records import DatasetInfo, _check_index, _check_indices
from aelab.data.sources import DATASETS, data_root, user_path
from aelab.data.splits import select_split
from aelab.data.sprite_shapes import SHAPES, SPRITE_SIZE, render_sprites

FACTOR_NAMES = ("shape", "scale", "orientation", "pos_x", "pos_y")
FULL_SIZES = (3, 6, 40, 32, 32)
IMAGE_SIZE = 64
TEST_FRACTION = 0.1
IMAGE_SOURCES = ("generated", "original")

SCALES = np.linspace(0.5, 1.0, FULL_SIZES[1])
ORIENTATIONS = 2 * np.pi * np.arange(FULL_SIZES[2]) / FULL_SIZES[2]
POSITIONS = np.linspace(0.0, 1.0, FULL_SIZES[3])


@options_class
class DspritesOptions(Options):
    """`config.data` options of the dsprites data sets."""

    images: str = option(
        "generated",
        "'generated': rendered from the factors; 'original': read from the original "
        f"{dsprites_file.FILE_NAME}",
        choices=IMAGE_SOURCES,
    )
    path: str | None = option(
        None,
        "the original .npz for images='original' (None: <data dir>/dsprites/"
        f"{dsprites_file.FILE_NAME}); relative paths are taken from the data dir",
    )


@dataclasses.dataclass(frozen=True)
class FactorGrid:
    """The factor grid a data set serves: every `strides[j]`-th class of factor j of
    the full dSprites grid.

    Attributes:
      name: the registered name.
      strides: per factor, the step between the full grid's classes it keeps.
    """

    name: str
    strides: tuple[int, ...]

    @property
    def sizes(self) -> tuple[int, ...]:
        pairs = zip(FULL_SIZES, self.strides, strict=True)
        return tuple(-(-full // stride) for full, stride in pairs)

    @property
    def num_examples(self) -> int:
        return int(np.prod(self.sizes))

    def factors(self, indices: np.ndarray) -> np.ndarray:
        """Factor classes int64 [n, 5] of record indices [n]."""
        return np.stack(np.unravel_index(indices, self.sizes), axis=1).astype(np.int64)

    def full_factors(self, factors: np.ndarray) -> np.ndarray:
        """The full grid's classes int64 [n, 5] of this grid's classes [n, 5]."""
        return factors * np.asarray(self.strides, np.int64)

    def check_factors(self, factors: np.ndarray) -> np.ndarray:
        factors = np.asarray(factors)
        width = len(FACTOR_NAMES)
        if factors.ndim != 2 or factors.shape[1] != width or factors.dtype.kind not in "iu":
            raise ValueError(
                f"factors must be integer classes [n, {len(FACTOR_NAMES)}] "
                f"({', '.join(FACTOR_NAMES)}); got {factors.dtype} {factors.shape}."
            )
        if factors.size and ((factors < 0).any() or (factors >= np.asarray(self.sizes)).any()):
            raise ValueError(f"factor classes out of range for {self.name}'s sizes {self.sizes}.")
        return factors.astype(np.int64)


GRIDS = {
    "dsprites": FactorGrid("dsprites", (1, 1, 1, 1, 1)),
    "dsprites_small": FactorGrid("dsprites_small", (1, 2, 10, 4, 4)),
}


def factor_values(full_factors: np.ndarray) -> np.ndarray:
    """The factor values float32 [n, 5] (shape 1..3, scale, orientation in radians, x,
    y) of full-grid factor classes int [n, 5]."""
    return np.stack(
        [
            full_factors[:, 0] + 1.0,
            SCALES[full_factors[:, 1]],
            ORIENTATIONS[full_factors[:, 2]],
            POSITIONS[full_factors[:, 3]],
            POSITIONS[full_factors[:, 4]],
        ],
        axis=1,
    ).astype(np.float32)


@functools.cache
def sprites() -> np.ndarray:
    """The 720 sprites, uint8 [3, 6, 40, 32, 32] in {0, 1} (about 0.5 s, once)."""
    table = render_sprites(SCALES, ORIENTATIONS).astype(np.uint8)
    table.setflags(write=False)
    return table


def generated_images(full_factors: np.ndarray) -> np.ndarray:
    """Images uint8 [n, 64, 64, 1] in {0, 1} of full-grid factor classes int [n, 5]:
    each sprite placed with its top-left corner at (row pos_y, column pos_x)."""
    n = len(full_factors)
    shape, scale, orientation, x, y = full_factors.T
    patches = sprites()[shape, scale, orientation]  # [n, 32, 32]
    offsets = np.arange(SPRITE_SIZE)
    rows = (y[:, None] + offsets)[:, :, None]
    cols = (x[:, None] + offsets)[:, None, :]
    images = np.zeros((n, IMAGE_SIZE, IMAGE_SIZE), np.uint8)
    images[np.arange(n)[:, None, None], rows, cols] = patches
    return images[..., None]


def _original_images(path: Path, full_factors: np.ndarray) -> np.ndarray:
    packed = dsprites_file.read_dsprites_file(path)
    indices = np.ravel_multi_index(tuple(full_factors.T), FULL_SIZES)
    pixels = np.unpackbits(packed[indices], axis=1)
    return pixels.reshape(len(indices), IMAGE_SIZE, IMAGE_SIZE, 1)


class DspritesSource:
    """The records of one split of a dSprites grid, made on request (see the module
    docstring); also a `aelab.data.factors.FactorSource`.

    Args:
      grid: the factor grid.
      indices: int64 [n], the split's record indices into the grid.
      split: the split spec, for repr.
      original: the original file to read images from; None renders them.
    """

    factor_names = FACTOR_NAMES

    def __init__(self, grid: FactorGrid, indices: np.ndarray, *, split: str, original: Path | None):
        self._grid = grid
        self._indices = np.asarray(indices, np.int64)
        self._split = split
        self._original = original
        self.factor_sizes = grid.sizes

    def __len__(self) -> int:
        return len(self._indices)

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        index = _check_index(index, len(self))
        return {key: value[0] for key, value in self.get_batch(np.asarray([index])).items()}

    def get_batch(self, indices: np.ndarray) -> dict[str, np.ndarray]:
        indices = _check_indices(indices, len(self))
        return self.records_of_factors(self._grid.factors(self._indices[indices]))

    def records_of_factors(self, factors: np.ndarray) -> dict[str, np.ndarray]:
        factors = self._grid.check_factors(factors)
        full = self._grid.full_factors(factors)
        if self._original is None:
            images = generated_images(full)
        else:
            images = _original_images(self._original, full)
        return {
            "image": images,
            "label": factors[:, 0].copy(),
            "factors": factors,
            "factor_values": factor_values(full),
        }

    def __repr__(self) -> str:
        path = "generated" if self._original is None else str(self._original)
        return f"DspritesSource(name={self._grid.name!r}, split={self._split!r}, path={path!r})"


class _DspritesDataset:
    """One dSprites grid (`GRIDS`) as a data set; see the module docstring."""

    def __init__(self, grid: FactorGrid):
        self.grid = grid

    def _splits(self) -> dict[str, np.ndarray]:
        n = self.grid.num_examples
        order = np.random.default_rng(0).permutation(n)
        test = round(TEST_FRACTION * n)
        return {"train": order[test:], "test": order[:test], "all": np.arange(n)}

    def _original(self, data_config: ml_collections.ConfigDict) -> Path | None:
        options = DspritesOptions.from_section(data_config, path="data")
        if options.images == "generated":
            return None
        root = data_root(data_config)
        if options.path is None:
            if root is None:
                raise DataError(
                    "config.data.images='original' needs the original dSprites file: set "
                    "config.data.path, or config.data.data_dir (or $AELAB_DATA_DIR) to a "
                    f"folder holding dsprites/{dsprites_file.FILE_NAME}."
                )
            path = root / "dsprites" / dsprites_file.FILE_NAME
        else:
            path = user_path(data_config, options.path)
        if not path.is_file():
            raise DataError(
                f"The original dSprites file {path} does not exist: download "
                f"{dsprites_file.FILE_NAME} (github.com/deepmind/dsprites-dataset) there, set "
                "config.data.path to it, or use config.data.images='generated'."
            )
        return path

    def info(self, data_config: ml_collections.ConfigDict) -> DatasetInfo:
        self._original(data_config)  # A missing file is reported before anything runs.
        splits = self._splits()
        return DatasetInfo(
            name=self.grid.name,
            input_key="image",
            input_shape=(IMAGE_SIZE, IMAGE_SIZE, 1),
            value_max=1.0,
            num_classes=len(SHAPES),
            splits={"train": len(splits["train"]), "test": len(splits["test"])},
        )

    def load(
        self, data_config: ml_collections.ConfigDict, split: str
    ) -> tuple[DspritesSource, DatasetInfo]:
        info = self.info(data_config)
        indices = select_split(split, self._splits())
        source = DspritesSource(
            self.grid, indices, split=split, original=self._original(data_config)
        )
        return source, info


for _name, _grid in GRIDS.items():
    DATASETS.register(_name, options=DspritesOptions)(_DspritesDataset(_grid))
