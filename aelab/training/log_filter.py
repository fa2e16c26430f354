"""Keeps the console readable: library INFO chatter (orbax's per-save messages) is
dropped; its warnings and errors still show, but for two that aelab causes on purpose."""

from __future__ import annotations

import logging

_QUIET_PATHS = ("/orbax/", "/grain/", "/tensorflow_datasets/", "/etils/", "/optax/")
# Orbax warnings that aelab's own reads cause on purpose: opening another run's
# checkpoints read-only, and reading one item of a step (its weights) on its own.
_EXPECTED_ORBAX_WARNINGS = ("Given directory is read only", "Metadata file does not exist")


class _LibraryInfoFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        from_library = any(part in record.pathname for part in _QUIET_PATHS)
        if record.levelno >= logging.WARNING:
            expected = "/orbax/" in record.pathname and str(record.msg).startswith(
                _EXPECTED_ORBAX_WARNINGS
            )
            return not expected
        return not from_library


def quiet_library_info_logs() -> None:
    """Installs the filter on the absl logger (idempotent)."""
    logger = logging.getLogger("absl")
    if not any(isinstance(f, _LibraryInfoFilter) for f in logger.filters):
        logger.addFilter(_LibraryInfoFilter())
    # "Unable to initialize backend 'tpu'" on every CPU/GPU start is expected, not news.
    logging.getLogger("jax._src.xla_bridge").setLevel(logging.WARNING)
