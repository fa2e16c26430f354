"""Your own components, imported by module name before a config is used.

A model, objective, evaluator or data set defined outside aelab registers itself when
its module is imported. The config file that uses it imports it, but programs that
rebuild a run from its saved `config.json` (evaluation, sweeps, export) never run that
file: `config.imports` names the modules, and every program imports them first.
"""

from __future__ import annotations

import importlib

from aelab.core.errors import ConfigError
from aelab.core.options import Options, option, options_class


@options_class
class ImportOptions(Options):
    """The top-level `config.imports`."""

    imports: tuple[str, ...] = option(
        (),
        "modules to import before the config is used: your own models, objectives, "
        "evaluators and data sets (they register themselves when imported)",
    )


def import_modules(config) -> list[str]:
    """Imports the modules `config.imports` names; returns their names.

    A value that is not a tuple of names is left to the config checks to report.

    Raises:
      ConfigError: a module that cannot be imported (its error's first line), naming the
        fix (its folder on PYTHONPATH).
    """
    problems: list[str] = []
    options = ImportOptions.collect(config, path="", problems=problems)
    if options is None:
        return []
    for name in options.imports:
        try:
            importlib.import_module(name)
        except Exception as e:  # User code: any error, one line.
            first = str(e).strip().splitlines()[0] if str(e).strip() else ""
            raise ConfigError(
                f"config.imports: module {name!r} cannot be imported ({type(e).__name__}: "
                f"{first}); put its folder on PYTHONPATH (e.g. PYTHONPATH=. from the folder "
                "that holds it)."
            ) from None
    return list(options.imports)
