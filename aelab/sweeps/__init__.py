"""Hyperparameter sweeps: search spaces, Optuna studies on SQLite or PostgreSQL, worker
processes, results tables and plots, and vmapped population training.

A sweep file's `get_sweep(arg)` returns an `aelab.sweeps.Sweep` over dimensions
(`Choice`, `Float`, `Int`); `experiments/sweep.py` runs it.
"""

from aelab.sweeps.definition import SAMPLERS, Sweep, load_config_file, load_sweep
from aelab.sweeps.report import results_rows, write_report
from aelab.sweeps.runner import SweepRun, attach_workers, print_report, run_sweep
from aelab.sweeps.space import Choice, Dimension, Float, Int, grid_points
from aelab.sweeps.storage import default_storage_url, open_storage, redact_url

__all__ = [
    "SAMPLERS",
    "Choice",
    "Dimension",
    "Float",
    "Int",
    "Sweep",
    "SweepRun",
    "attach_workers",
    "default_storage_url",
    "grid_points",
    "load_config_file",
    "load_sweep",
    "open_storage",
    "print_report",
    "redact_url",
    "results_rows",
    "run_sweep",
    "write_report",
]
