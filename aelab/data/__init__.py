"""Data: named data sets, their record sources, and the raw-file readers behind them.

Every module of this package is imported here, so a new data set is one new module that
registers itself in `DATASETS` (see docs/adding_a_data_set.md).
"""

from aelab.core.discovery import import_submodules
from aelab.data.corruptions import CORRUPTIONS, BatchNoise, Corruption, list_corruptions
from aelab.data.errors import DataError
from aelab.data.records import ArraySource, DatasetInfo, RecordSource
from aelab.data.section import DATA_SECTION
from aelab.data.sources import DATASETS, dataset_info, list_datasets, load_split

import_submodules(__name__, __path__)

__all__ = [
    "CORRUPTIONS",
    "DATASETS",
    "DATA_SECTION",
    "ArraySource",
    "BatchNoise",
    "Corruption",
    "DataError",
    "DatasetInfo",
    "RecordSource",
    "dataset_info",
    "list_corruptions",
    "list_datasets",
    "load_split",
]
