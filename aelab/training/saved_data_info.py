"""`data_info.json`: the `DatasetInfo` a model was built for, saved beside its config.

A training run writes it into its work directory and an export into the exported
folder, so rebuilding the model (evaluation, `aelab.load`, exports) never needs the data
set itself: in-memory arrays exist only in the process that trained on them, and a
collaborator may not have the raw files.
"""

from __future__ import annotations

import json
import os

from aelab.core.atomic_files import write_json_atomically
from aelab.data import DataError, DatasetInfo

DATA_INFO_FILE = "data_info.json"


def write_data_info(directory: str, info: DatasetInfo) -> None:
    """Writes `info` to `directory/data_info.json` (atomically)."""
    write_json_atomically(os.path.join(directory, DATA_INFO_FILE), info.to_dict(), indent=2)


def read_data_info(directory: str, *, fix: str = "rerun training to rewrite it") -> DatasetInfo:
    """The `DatasetInfo` in `directory/data_info.json`.

    Raises:
      FileNotFoundError: there is none.
      DataError: it is not valid JSON or lacks fields (the message ends with `fix`).
    """
    file = os.path.join(directory, DATA_INFO_FILE)
    try:
        with open(file) as f:
            fields = json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f"No {DATA_INFO_FILE} in {directory}.") from None
    except json.JSONDecodeError as e:
        raise DataError(f"{file} is not valid JSON ({e}); {fix}.") from None
    if not isinstance(fields, dict):
        raise DataError(f"{file} holds no JSON object; {fix}.")
    return DatasetInfo.from_dict(fields, source=file)
