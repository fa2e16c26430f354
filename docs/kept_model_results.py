"""The results an earlier docs/models.md measured, kept for configs whose runs are not
where the page is regenerated (run directories are not committed); used by
docs/make_models_table.py. No flags here, so that tests can load it."""

import os


def previous_results(path: str | None) -> dict:
    """The measured result cells of the configs table in an earlier models.md: by the
    row's config (``("config", "configs/<file>.py[:<variant>]")`` -> (cells, result))
    and by its (model, objective, data, parameters) cells (-> result; None for cells
    two rows share)."""
    results = {}
    if not path or not os.path.exists(path):
        return results
    with open(path) as f:
        for line in f:
            cells = line.strip()[2:-2].split(" | ")
            if line.startswith("| `configs/") and len(cells) == 6 and cells[5] != "not measured":
                key = tuple(cells[1:5])
                results[("config", cells[0])] = (key, cells[5])
                results[key] = None if key in results else cells[5]
    return results


def kept_result(previous: dict, label: str, cells: tuple, unique: bool) -> str | None:
    """The kept result of a config row: its own row's, when the config is still what it
    was (same cells), else, for a renamed config, the one row with its cells."""
    own_cells, result = previous.get(("config", label), (None, None))
    if own_cells == cells:
        return result
    return previous.get(cells) if unique else None
