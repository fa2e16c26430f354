"""Training: the train state, jitted sharded steps, checkpoints and the loop core.

`train(config, workdir)` trains one model; `aelab.evaluation.train_and_evaluate` is the
same with the evaluators of `config.evals` that run during training.
"""

from aelab.training.checkpoint_integrity import CorruptCheckpointError
from aelab.training.checkpointing import Checkpointer
from aelab.training.config_schema import TRAINING_SCHEMA
from aelab.training.loop import LoopCore, TrainCallback
from aelab.training.mesh import make_data_mesh
from aelab.training.nonfinite import NonFiniteLossError
from aelab.training.optimizers import build_optimizer, list_optimizers
from aelab.training.preemption import TrainingPreempted
from aelab.training.saved_config import ConfigMismatchError
from aelab.training.schedules import build_schedule
from aelab.training.single_run import EvaluationHook, train
from aelab.training.state import TrainState, create_train_state, parameter_count
from aelab.training.validation import check_config, validate_training_config
from aelab.training.workdir_lock import WorkdirLockedError

__all__ = [
    "TRAINING_SCHEMA",
    "Checkpointer",
    "ConfigMismatchError",
    "CorruptCheckpointError",
    "EvaluationHook",
    "LoopCore",
    "NonFiniteLossError",
    "TrainCallback",
    "TrainState",
    "TrainingPreempted",
    "WorkdirLockedError",
    "build_optimizer",
    "build_schedule",
    "check_config",
    "create_train_state",
    "list_optimizers",
    "make_data_mesh",
    "parameter_count",
    "train",
    "validate_training_config",
]
