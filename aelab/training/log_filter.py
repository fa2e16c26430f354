"""Keeps the console readable: library INFO chatter (orbax's per-save messages) is
dropped; its warnings and errors still show."""

from __future__ import annotations

import logging

_QUIET_PATHS = ("/orbax/", "/grain/", "/tensorflow_datasets/", "/etils/", "/optax/")


class _LibraryInfoFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        return not any(part in record.pathname for part in _QUIET_PATHS)


def quiet_library_info_logs() -> None:
    """Installs the filter on the absl logger (idempotent)."""
    logger = logging.getLogger("absl")
    if not any(isinstance(f, _LibraryInfoFilter) for f in logger.filters):
        logger.addFilter(_LibraryInfoFilter())
    # "Unable to initialize backend 'tpu'" on every CPU/GPU start is expected, not news.
    logging.getLogger("jax._src.xla_bridge").setLevel(logging.WARNING)
