"""Importing every module of a package, so that the components they register exist.

A package that holds a registry (models, objectives, data sets, evaluators) calls
`import_submodules(__name__, __path__)` at the end of its `__init__`: a new component is
then one new module in the package, with no list to edit elsewhere.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable


def import_submodules(package: str, path: Iterable[str]) -> list[str]:
    """Imports every module directly inside `package` (found on `path`) whose name does
    not start with an underscore; returns their names, sorted."""
    names = sorted(
        info.name for info in pkgutil.iter_modules(path) if not info.name.startswith("_")
    )
    for name in names:
        importlib.import_module(f"{package}.{name}")
    return names
