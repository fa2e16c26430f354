"""The config sections training reads, assembled from their owners' declarations.

`TRAINING_SCHEMA` covers the top-level `seed` and the sections data, model, objective,
optimizer, train, mesh and distributed; `config.evals` belongs to the evaluation layer
(`aelab.evaluation.config_schema.CONFIG_SCHEMA` is the whole config).
"""

from __future__ import annotations

from aelab.core.plugins import ImportOptions
from aelab.core.schema import ConfigSchema, Section
from aelab.data import DATA_SECTION
from aelab.models import MODEL_SECTION
from aelab.objectives import OBJECTIVE_SECTION
from aelab.training.batches import BatchSourceOptions
from aelab.training.checkpointing import CheckpointOptions
from aelab.training.distributed import DISTRIBUTED_SECTION
from aelab.training.early_stopping import EarlyStoppingOptions
from aelab.training.loop import LoopOptions
from aelab.training.mesh import MESH_SECTION
from aelab.training.nonfinite import NonFiniteOptions
from aelab.training.optimizers import OPTIMIZER_SECTION
from aelab.training.seeds import SeedOptions
from aelab.training.step import PrecisionOptions
from aelab.training.warm_start import WarmStartOptions

TRAIN_SECTION = Section(
    "train",
    doc="the loop: length, logging, evaluation, checkpoints, early stopping, precision, warm start",
    shared=(
        LoopOptions,
        CheckpointOptions,
        EarlyStoppingOptions,
        NonFiniteOptions,
        PrecisionOptions,
        WarmStartOptions,
    ),
)

TRAINING_SCHEMA = ConfigSchema(
    root=(SeedOptions, ImportOptions),
    sections=(
        DATA_SECTION.extended(BatchSourceOptions),
        MODEL_SECTION,
        OBJECTIVE_SECTION,
        OPTIMIZER_SECTION,
        TRAIN_SECTION,
        MESH_SECTION,
        DISTRIBUTED_SECTION,
    ),
    owned_elsewhere=("evals",),
)
