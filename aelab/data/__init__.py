"""Data: named data sets, their record sources, and the raw-file readers behind them."""

from aelab.data.errors import DataError
from aelab.data.sources import DatasetInfo, dataset_info, list_datasets, load_split

__all__ = ["DataError", "DatasetInfo", "dataset_info", "list_datasets", "load_split"]
