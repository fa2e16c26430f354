"""Training: the train state, jitted sharded steps, checkpoints and the loop."""

from aelab.training.checkpoint_integrity import CorruptCheckpointError
from aelab.training.checkpointing import Checkpointer
from aelab.training.loop import train_and_evaluate
from aelab.training.mesh import make_data_mesh
from aelab.training.nonfinite import NonFiniteLossError
from aelab.training.optimizers import build_optimizer, list_optimizers
from aelab.training.preemption import TrainingPreempted
from aelab.training.saved_config import ConfigMismatchError
from aelab.training.schedules import build_schedule
from aelab.training.state import TrainState, create_train_state, parameter_count
from aelab.training.workdir_lock import WorkdirLockedError

__all__ = [
    "Checkpointer",
    "ConfigMismatchError",
    "CorruptCheckpointError",
    "NonFiniteLossError",
    "TrainState",
    "TrainingPreempted",
    "WorkdirLockedError",
    "build_optimizer",
    "build_schedule",
    "create_train_state",
    "list_optimizers",
    "make_data_mesh",
    "parameter_count",
    "train_and_evaluate",
]
