"""Reloading a trained run from its work directory: config, run spec, model, weights.

    run = load_run("runs/mnist_vae")            # the best checkpoint (else the latest)
    run = load_run("runs/mnist_vae", step=5000)
    model = run.model()                         # an NNX module with the trained weights

Everything is restored onto one device (evaluation is cheap next to training, and this
keeps it independent of the mesh the run was trained on).
"""

from __future__ import annotations

import dataclasses
import os

import jax
import ml_collections
from absl import logging
from flax import nnx

from aelab.objectives.adversarial import is_adversarial
from aelab.training.checkpointing import abstract_with_shardings
from aelab.training.experiment import RunSpec, build_run_spec
from aelab.training.optimizers import build_discriminator_optimizer, build_optimizer
from aelab.training.run_checkpoints import open_run_checkpoints, resolve_step
from aelab.training.saved_config import read_config
from aelab.training.saved_data_info import DATA_INFO_FILE, read_data_info
from aelab.training.state import TrainState, init_train_state, merge_model


@dataclasses.dataclass(frozen=True)
class TrainedRun:
    """A trained model and what it was trained on.

    Attributes:
      workdir: the run's work directory (None for a run held only in memory).
      config: the run's config.
      spec: derived facts (data info, transform, objective, shapes).
      graphdef: the model's NNX graph definition.
      params: the trained `nnx.Param` values (pure dict of arrays).
      model_state: the other model variables (batch statistics), pure dict.
      step: the training step of these weights.
      train_seconds: training wall time up to `step`, when the checkpoint records it.
      source: where the weights were loaded from (a work directory, an exported model
        directory or an hf:// address); None for a run held only in memory.
    """

    workdir: str | None
    config: ml_collections.ConfigDict
    spec: RunSpec
    graphdef: nnx.GraphDef
    params: dict
    model_state: dict
    step: int
    train_seconds: float | None = None
    source: str | None = None

    def model(self) -> nnx.Module:
        """The NNX model with the trained weights."""
        return merge_model(self.graphdef, self.params, self.model_state)


def abstract_train_state(config, spec: RunSpec) -> tuple[nnx.GraphDef, TrainState]:
    """(graphdef, the TrainState's shapes and dtypes) of `config`, without computing it
    (an `AdversarialTrainState` for an objective that trains a discriminator)."""
    graphdefs = []
    num_steps = int(config.train.num_steps)
    optimizer = build_optimizer(config.optimizer, num_steps)
    d_optimizer = None
    if is_adversarial(spec.objective):
        d_optimizer = build_discriminator_optimizer(config.optimizer, num_steps)

    def init() -> TrainState:
        state, (graphdef, _) = init_train_state(
            config.model,
            spec.example_shape,
            spec.output_shape,
            optimizer,
            jax.random.PRNGKey(0),
            objective=spec.objective,
            discriminator_optimizer=d_optimizer,
        )
        graphdefs.append(graphdef)
        return state

    abstract = jax.eval_shape(init)
    return graphdefs[0], abstract


def list_checkpoint_steps(workdir: str) -> list[int]:
    """The steps of the finished checkpoints in `workdir`, ascending."""
    checkpointer = open_run_checkpoints(workdir, read_config(workdir), read_only=True)
    try:
        return sorted(checkpointer.all_steps())
    finally:
        checkpointer.close()


def checkpoint_step(workdir: str, step: int | str = "best") -> int:
    """The checkpoint step that `step` ("best", "latest" or a number) names in `workdir`."""
    checkpointer = open_run_checkpoints(workdir, read_config(workdir), read_only=True)
    try:
        return resolve_step(checkpointer, step)
    finally:
        checkpointer.close()


def load_run(workdir: str, step: int | str = "best") -> TrainedRun:
    """Rebuilds a run's config, spec and model and restores one checkpoint's weights.

    Args:
      workdir: the run's work directory (has config.json and checkpoints/).
      step: "best" (by `config.train.best_metric`; the latest when none is ranked),
        "latest", or a saved step number.
    """
    workdir = os.path.abspath(workdir)
    config = read_config(workdir)
    # The data set's description as the model was built for it: in-memory arrays exist
    # only in the process that trained on them (runs before data_info.json: read it).
    saved = os.path.join(workdir, DATA_INFO_FILE)
    spec = build_run_spec(config, info=read_data_info(workdir) if os.path.exists(saved) else None)
    graphdef, abstract = abstract_train_state(config, spec)
    device = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])
    target = abstract_with_shardings(abstract, jax.tree.map(lambda _: device, abstract))
    # Read-only: a run still training may have a save in progress (a temporary
    # directory) that a read-write manager would clean up.
    checkpointer = open_run_checkpoints(workdir, config, read_only=True)
    try:
        chosen = resolve_step(checkpointer, step)
        state = checkpointer.restore_state(chosen, target)
        train_seconds = checkpointer.restore_loop_state(chosen).get("train_seconds")
    finally:
        checkpointer.close()
    logging.info("Loaded %s at step %d.", workdir, chosen)
    return TrainedRun(
        workdir=workdir,
        config=config,
        spec=spec,
        graphdef=graphdef,
        params=state.params,
        model_state=state.model_state,
        step=chosen,
        train_seconds=None if train_seconds is None else float(train_seconds),
        source=workdir,
    )
