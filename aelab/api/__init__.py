"""The Python API: configs by name, training, loading and exporting trained models.

    import aelab
    config = aelab.load_config("quickstart:smoke")
    aelab.train(config, "runs/qs")
    model = aelab.load("runs/qs")
    recon = model.reconstruct(images)

These are also reachable as `aelab.load_config`, `aelab.train`, ... (imported on first
use, so `import aelab` stays light). `evaluate` is `aelab.evaluation.evaluate_run` (the
evaluators of `aelab evaluate`), `read_metrics` the logged metrics of a work directory.
"""

from aelab.api.loading import load
from aelab.api.notebook_training import ProgressBar, train
from aelab.api.shipped_configs import list_configs, load_config
from aelab.api.trained_model import TrainedModel
from aelab.evaluation import evaluate_run as evaluate
from aelab.evaluation import export, push_to_hub
from aelab.training.metric_writer import read_metrics

__all__ = [
    "ProgressBar",
    "TrainedModel",
    "evaluate",
    "export",
    "list_configs",
    "load",
    "load_config",
    "push_to_hub",
    "read_metrics",
    "train",
]
