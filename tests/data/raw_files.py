"""Writers of tiny raw data files in the formats aelab reads, for tests."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np


def idx_bytes(array: np.ndarray) -> bytes:
    """IDX encoding of uint8 `array`: images [N, H, W] (magic 2051) or labels [N] (2049)."""
    magic = {3: 2051, 1: 2049}[array.ndim]
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx(path: Path, array: np.ndarray, compress: bool = True) -> Path:
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def random_images(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images [n, 28, 28] and uint8 labels [n] in 0..9."""
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    return images, rng.integers(0, 10, size=n, dtype=np.uint8)


def write_mnist_folder(folder: Path, n_train: int, n_test: int, seed: int = 0) -> dict:
    """Writes the four gzipped IDX files; returns {split: (images [n, 28, 28], labels [n])}."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    data = {"train": random_images(rng, n_train), "test": random_images(rng, n_test)}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images, labels = data[split]
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return data


def amat_text(images: np.ndarray) -> str:
    """The .amat text of binary images [N, 784]: '0 1 ... 1' per line."""
    return "".join(" ".join(str(v) for v in row) + "\n" for row in images)


def write_amat(path: Path, images: np.ndarray) -> Path:
    text = amat_text(images).encode()
    path.write_bytes(gzip.compress(text) if path.suffix == ".gz" else text)
    return path


def write_binarized_folder(folder: Path, sizes: dict[str, int], seed: int = 0) -> dict:
    """Writes binarized_mnist_{train,valid,test}.amat.gz; returns {split: uint8 [n, 784]}."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    file_names = {"train": "train", "validation": "valid", "test": "test"}
    data = {}
    for split, n in sizes.items():
        data[split] = rng.integers(0, 2, size=(n, 784), dtype=np.uint8)
        write_amat(folder / f"binarized_mnist_{file_names[split]}.amat.gz", data[split])
    return data


def write_ucr(path: Path, series: np.ndarray, classes: np.ndarray, header: bool = False) -> Path:
    """Writes a UCR file; the format follows the suffix (.arff/.csv: class last, .txt first)."""
    if path.suffix == ".txt":
        rows = [" ".join(f"{v:.9e}" for v in (c, *s)) for s, c in zip(series, classes, strict=True)]
    else:
        rows = [
            ",".join([*(f"{v:.9g}" for v in s), str(c)])
            for s, c in zip(series, classes, strict=True)
        ]
    lines = []
    if header:
        lines += ["% a comment", "@relation ECG5000"]
        lines += [f"@attribute att{i} numeric" for i in range(series.shape[1])]
        lines += ["@attribute target {1,2,3,4,5}", "", "@data"]
    path.write_text("\n".join(lines + rows) + "\n")
    return path


def random_ecg(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """float32 series [n, 140] and UCR classes [n] in 1..5."""
    series = rng.normal(size=(n, 140)).astype(np.float32)
    return series, rng.integers(1, 6, size=n)


def read_gzip_idx(path: Path) -> np.ndarray:
    """The array in a gzipped IDX file (test helper, independent of aelab's reader)."""
    data = gzip.decompress(path.read_bytes())
    rank = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(rank))
    return np.frombuffer(data, np.uint8, offset=4 + 4 * rank).reshape(shape)
