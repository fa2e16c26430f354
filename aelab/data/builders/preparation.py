"""Preparing a builder once into a TFDS data dir, under a file lock shared by processes."""

from __future__ import annotations

import os
from pathlib import Path

import filelock
import tensorflow_datasets as tfds


def _exclusive_lock(path: Path) -> filelock.FileLock:
    """An exclusive lock on `path` (created if needed), waited for on entry.

    It is an flock, which the kernel releases if the process dies, so a crashed worker
    never leaves a stale lock behind. It is reliable on local disks; on NFS it depends
    on the mount (where flock is missing, filelock falls back to a lock file and warns).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    return filelock.FileLock(path)


def prepare(
    builder_cls: type[tfds.core.GeneratorBasedBuilder],
    *,
    tfds_dir: str | os.PathLike,
    manual_dir: str | os.PathLike | None = None,
    config: tfds.core.BuilderConfig | None = None,
) -> tfds.core.DatasetBuilder:
    """Prepares `builder_cls` in `tfds_dir` unless already prepared; returns a reader for it.

    Safe when several processes call it at once (a sweep's workers starting together):
    preparation runs under a file lock, and whoever gets the lock second finds the data
    prepared and only reads it.

    Args:
      builder_cls: one of the builders of `aelab.data.builders`.
      tfds_dir: TFDS data dir to write into, e.g. `~/.cache/aelab/tensorflow_datasets`.
      manual_dir: folder with the raw files (unused by `AelabNpz`, whose config names
        its file).
      config: builder config (`npz_config(...)` for `AelabNpz`).

    Returns:
      A builder whose `as_data_source(split)` reads the prepared records.
    """
    tfds_dir = Path(tfds_dir).expanduser()

    def open_builder() -> tfds.core.DatasetBuilder:
        return builder_cls(data_dir=tfds_dir, config=config, file_format="array_record")

    builder = open_builder()
    if builder.is_prepared():
        return builder
    lock_name = builder.name + (f"-{config.name}" if config is not None else "")
    with _exclusive_lock(tfds_dir / ".locks" / f"{lock_name}.lock"):
        # A builder reads dataset_info.json when it is created: make a fresh one, since
        # another process may have prepared the data while this one waited for the lock.
        builder = open_builder()
        if not builder.is_prepared():
            download_config = tfds.download.DownloadConfig(
                manual_dir=os.fspath(manual_dir) if manual_dir is not None else None,
                try_download_gcs=False,  # Never look for a prepared copy online.
            )
            builder.download_and_prepare(download_config=download_config)
            builder = open_builder()
    return builder
