"""The package version (one place: pyproject.toml reads it, and so do saved files)."""

__version__ = "0.1.0"
