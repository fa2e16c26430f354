"""`train`: one model trained through the loop core.

config -> validation -> work-directory lock -> data pipeline -> sharded train state ->
jitted (fused) steps -> the loop core (`aelab.training.loop`): logs, evaluations, image
grids and checkpoints -> work directory. A rerun in the same work directory resumes
from its latest checkpoint.

Reliability (docs/reliability.md): the config is validated before anything is written
or compiled; one run at a time holds the work directory; a rerun with a different
config must say so (`config_mismatch`); SIGTERM / SIGINT checkpoint at the next step
boundary and stop; damaged checkpoints fall back to the previous good one; non-finite
losses stop the run or skip the update (`config.train.nonfinite`).

Evaluators of `config.evals` that run during training (`every > 0`) belong to the
evaluation layer, which passes them in as an `EvaluationHook`
(`aelab.evaluation.train_and_evaluate` does); `train` alone refuses a config that asks
for them rather than silently skipping them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Protocol

import jax
from absl import logging

from aelab.core.options import Options, option, options_class
from aelab.core.plugins import import_modules
from aelab.core.schema import AnySection
from aelab.data.run_splits import has_validation, run_splits
from aelab.objectives.adversarial import is_adversarial
from aelab.training.batches import make_train_batches
from aelab.training.checkpointing import (
    Checkpointer,
    CheckpointOptions,
    abstract_with_shardings,
)
from aelab.training.config_schema import TRAINING_SCHEMA
from aelab.training.distributed import initialize_distributed
from aelab.training.early_stopping import EarlyStopping, EarlyStoppingOptions
from aelab.training.experiment import RunSpec, build_run_spec
from aelab.training.log_filter import quiet_library_info_logs
from aelab.training.loop import LoopCore, LoopOptions, Member, TrainCallback, check_callbacks
from aelab.training.mesh import (
    MeshOptions,
    batch_sharding,
    make_data_mesh,
    replicated,
    state_sharding_fn,
)
from aelab.training.metric_window import MetricWindow
from aelab.training.nonfinite import NonFiniteGuard, NonFiniteOptions, skip_nonfinite_updates
from aelab.training.objective_evaluation import average_over_split, evaluation_batches
from aelab.training.optimizers import (
    build_discriminator_optimizer,
    build_discriminator_schedule,
    build_optimizer,
)
from aelab.training.preemption import PreemptionWatcher
from aelab.training.run_info import update_run_info, write_start_info
from aelab.training.saved_config import reconcile_saved_config
from aelab.training.saved_data_info import write_data_info
from aelab.training.schedules import build_schedule
from aelab.training.seeds import SeedOptions, data_seed
from aelab.training.snapshots import ImageSnapshots
from aelab.training.state import create_train_state_with_discriminator, parameter_count
from aelab.training.step import (
    PrecisionOptions,
    fuse_steps,
    make_adversarial_train_step,
    make_eval_step,
    make_train_step,
)
from aelab.training.validation import check_config, raise_problems
from aelab.training.warm_start import WarmStartOptions, init_source_problem, warm_start
from aelab.training.workdir_lock import WorkdirLock


@options_class
class EvaluationScheduleOptions(Options):
    """What every `config.evals` entry may carry besides its evaluator's options: when
    the loop runs it."""

    every: int = option(
        0,
        "also run every this many training steps (a multiple of train.eval_every) and at "
        "the end of training (0: only in experiments/evaluate.py)",
        minimum=0,
    )


class EvaluationHook(Protocol):
    """Evaluators that run inside training, supplied by a higher layer.

    Attributes:
      sections: the config sections it owns (checked with the rest of the config).
    """

    sections: tuple[AnySection, ...]

    def problems(self, config) -> list[str]:
        """Problems of `config` it owns, one line each (checked before anything runs)."""

    def start(self, *, workdir: str, graphdef: Any, spec: RunSpec, is_chief: bool) -> None:
        """Called once the model is built, before the first step."""

    def __call__(self, step: int, state, *, is_last: bool, train_seconds: float) -> dict:
        """The evaluators due at `step`: {"evals/<name>/<metric>": value}."""


def unrun_evaluators(config) -> list[str]:
    """Problems for `config.evals` entries that ask to run during training (`every > 0`)
    when no `EvaluationHook` runs them."""
    evals = config.get("evals") or {}
    problems = []
    for name in evals.keys():
        every = EvaluationScheduleOptions.from_section(evals[name], path=f"evals.{name}").every
        if every:
            problems.append(
                f"config.evals.{name}.every={every} asks for evaluation during training, "
                "which aelab.training.train does not run: train with "
                "aelab.evaluation.train_and_evaluate (as experiments/train.py does), or set "
                "every=0 and evaluate afterwards with experiments/evaluate.py."
            )
    return problems


class SingleRun:
    """One model as the loop core's `Trainee`: its sharded state, jitted steps, batches,
    evaluation and image grids."""

    num_members = 1

    def __init__(self, config, spec: RunSpec, workdir: str, *, evaluation, is_chief: bool):
        self.config, self.spec, self.evaluation = config, spec, evaluation
        loop = LoopOptions.from_section(config.train, path="train")
        mesh_options = MeshOptions.from_section(config.mesh, path="mesh")
        self.mesh = mesh = make_data_mesh(mesh_options.num_devices)
        self.seed = SeedOptions.from_section(config).seed
        self.splits = run_splits(config.data)

        optimizer = build_optimizer(config.optimizer, loop.num_steps)
        schedule = build_schedule(config.optimizer, loop.num_steps)
        adversarial = is_adversarial(spec.objective)
        # An adversarial objective's discriminator has its own optimizer.
        d_optimizer = (
            build_discriminator_optimizer(config.optimizer, loop.num_steps) if adversarial else None
        )
        self.graphdef, self.discriminator_graphdef, self._state, self.shardings = (
            create_train_state_with_discriminator(
                config.model,
                spec.example_shape,
                spec.output_shape,
                optimizer,
                seed=self.seed,
                mesh=mesh,
                state_sharding_fn=state_sharding_fn(config.mesh),
                objective=spec.objective,
                discriminator_optimizer=d_optimizer,
            )
        )
        self.num_params = parameter_count(self._state.params)
        if adversarial:
            one_step = make_adversarial_train_step(
                self.graphdef,
                self.discriminator_graphdef,
                spec.objective,
                optimizer,
                d_optimizer,
                schedule,
                build_discriminator_schedule(config.optimizer, loop.num_steps),
            )
        else:
            one_step = make_train_step(
                self.graphdef,
                spec.objective,
                optimizer,
                schedule,
                compute_dtype=PrecisionOptions.from_section(
                    config.train, path="train"
                ).compute_dtype,
            )
        if NonFiniteOptions.from_section(config.train, path="train").nonfinite == "skip":
            one_step = skip_nonfinite_updates(one_step)
        self._train_step = jax.jit(
            fuse_steps(one_step),
            in_shardings=(self.shardings, batch_sharding(mesh, leading_axes=1)),
            out_shardings=(self.shardings, replicated(mesh)),
            donate_argnums=0,
        )
        self._eval_step = jax.jit(
            make_eval_step(self.graphdef, spec.objective, self.discriminator_graphdef),
            in_shardings=(self.shardings, batch_sharding(mesh), replicated(mesh)),
            out_shardings=replicated(mesh),
        )
        self.batches = make_train_batches(
            config,
            spec.transform,
            spec.example_shape,
            self.splits.train,
            mesh,
            seed=data_seed(config),
        )
        self.snapshots = ImageSnapshots(
            workdir, self.graphdef, spec, self.splits.selection, config, mesh, is_chief=is_chief
        )

    def train(self, k: int):
        self._state, metrics = self._train_step(self._state, self.batches.next_stacked(k))
        return metrics

    def per_member(self, metrics: dict) -> list[dict]:
        return [metrics]

    def evaluate(self, step: int, *, is_last: bool, train_seconds: float) -> list[dict]:
        eval_key = jax.random.PRNGKey(self.seed + 1)
        state = self._state
        averages = average_over_split(
            lambda batch, index: self._eval_step(state, batch, jax.random.fold_in(eval_key, index)),
            evaluation_batches(self.config, self.spec, self.splits),
            self.mesh,
        )
        metrics = {name: float(value) for name, value in averages.items()}
        if self.evaluation is not None:
            metrics.update(
                self.evaluation(step, state, is_last=is_last, train_seconds=train_seconds)
            )
        return [metrics]

    def after_evaluation(self, step: int, writers) -> None:
        self.snapshots.write(step, self._state, writers[0])

    def state(self):
        return self._state

    def abstract_state(self):
        return abstract_with_shardings(self._state, self.shardings)

    def load_state(self, state) -> None:
        self._state = state


def new_member(config, workdir: str) -> Member:
    """The loop's bookkeeping for a run trained with `config`, logging into `workdir`."""
    checkpoints = CheckpointOptions.from_section(config.train, path="train")
    stopping = EarlyStoppingOptions.from_section(config.train, path="train")
    nonfinite = NonFiniteOptions.from_section(config.train, path="train")
    return Member(
        workdir=workdir,
        window=MetricWindow(),
        nonfinite=NonFiniteGuard(nonfinite.nonfinite, nonfinite.nonfinite_patience),
        early_stopping=EarlyStopping(
            metric=checkpoints.best_metric,
            mode=checkpoints.best_mode,
            patience=stopping.early_stopping_patience,
            min_delta=stopping.early_stopping_min_delta,
        ),
    )


def train(
    config,
    workdir: str,
    *,
    callbacks: Sequence[TrainCallback] = (),
    config_mismatch: str = "error",
    evaluation: EvaluationHook | None = None,
) -> dict[str, float]:
    """Trains the model described by `config`, writing everything into `workdir`.

    Resumes from the latest intact checkpoint in `workdir/checkpoints` if there is one.

    Args:
      config: the experiment config (see `aelab.config.base_config()`).
      workdir: the work directory; one run at a time may use it.
      callbacks: `TrainCallback`s (logging, sweep pruning).
      config_mismatch: what to do when `config` differs from the config saved with the
        run's checkpoints (beyond `saved_config.CONTINUATION_FIELDS` such as
        `train.num_steps`): "error" (default) or "resume" with the new config.
      evaluation: evaluators to run during training (`config.evals` entries with
        `every > 0`), from the evaluation layer.

    Returns:
      The last evaluation metrics ({"eval/<name>": value}).

    Raises:
      ConfigError: an invalid config, before anything is written or compiled.
      WorkdirLockedError: another live run uses `workdir`.
      ConfigMismatchError: see `config_mismatch`.
      TrainingPreempted: SIGTERM / SIGINT arrived; a checkpoint was saved first.
      NonFiniteLossError: a NaN or infinite loss (`config.train.nonfinite`).
    """
    quiet_library_info_logs()
    check_callbacks(callbacks)
    schema = TRAINING_SCHEMA
    if evaluation is not None:
        schema = schema.with_sections(*evaluation.sections)
    import_modules(config)  # `config.imports`: components that register themselves.
    report, _ = schema.check(config)
    if not report.problems:
        # Joining a multi-process job must come before anything touches the devices,
        # and the device checks need the job's devices.
        initialize_distributed(config.distributed)
        report = check_config(config, schema=schema)
    extra = []
    if not report.problems:
        extra = evaluation.problems(config) if evaluation is not None else unrun_evaluators(config)
    workdir = os.path.abspath(workdir)
    init_from = WarmStartOptions.from_section(config.train, path="train").init_from
    if not report.problems and init_from is not None and not _has_checkpoints(workdir):
        # A fresh run reads init_from; a resumed one never does (it may be gone).
        extra += [p for p in [init_source_problem(init_from)] if p]
    raise_problems(report, extra)
    with (
        WorkdirLock(workdir, enabled=jax.process_index() == 0),
        PreemptionWatcher() as preemption,
    ):
        return _train(config, workdir, schema, callbacks, config_mismatch, evaluation, preemption)


def _has_checkpoints(workdir: str) -> bool:
    directory = os.path.join(workdir, "checkpoints")
    return os.path.isdir(directory) and bool(os.listdir(directory))


def _train(config, workdir, schema, callbacks, config_mismatch, evaluation, preemption):
    is_chief = jax.process_index() == 0
    checkpoint_options = CheckpointOptions.from_section(config.train, path="train")
    # Opening the checkpoints deletes temporary directories of killed saves: the work
    # directory lock is held, so none of them belongs to a live run.
    # Checkpoints are ranked on the validation split only: without one, "best" is the
    # latest checkpoint (model selection never looks at the test split).
    selects = has_validation(config.data)
    checkpointer = Checkpointer(
        os.path.join(workdir, "checkpoints"),
        keep=checkpoint_options.keep_checkpoints,
        best_metric=checkpoint_options.best_metric if selects else None,
        best_mode=checkpoint_options.best_mode,
    )
    reconcile_saved_config(
        config,
        workdir,
        resume_step=checkpointer.latest_step(),
        on_mismatch=config_mismatch,
        write=is_chief,
        complete=schema.complete,
    )
    spec = build_run_spec(config)
    run = SingleRun(config, spec, workdir, evaluation=evaluation, is_chief=is_chief)
    if evaluation is not None:
        evaluation.start(workdir=workdir, graphdef=run.graphdef, spec=spec, is_chief=is_chief)
    logging.info(
        "Model %s: %s parameters; data %s %s; %d devices in %d processes.",
        config.model.name,
        f"{run.num_params:,}",
        spec.info.name,
        spec.example_shape,
        run.mesh.size,
        jax.process_count(),
    )
    loop = LoopOptions.from_section(config.train, path="train")
    core = LoopCore(
        run,
        loop=loop,
        checkpointer=checkpointer,
        members=[new_member(config, workdir)],
        preemption=preemption,
        workdir=workdir,
        is_chief=is_chief,
        rank_checkpoints=selects,
        on_log=[lambda step, scalars, c=c: c.on_log(step, scalars[0]) for c in callbacks],
        on_evaluation=[
            lambda step, metrics, c=c: c.on_evaluation(step, metrics[0]) for c in callbacks
        ],
        on_checkpoint=[c.on_checkpoint for c in callbacks],
    )
    start_step = core.restore()
    init_from = WarmStartOptions.from_section(config.train, path="train").init_from
    origin = None
    if start_step is not None:
        logging.info(
            "Resuming from the checkpoint at step %d in %s (training to step %d).",
            start_step,
            checkpointer.directory,
            loop.num_steps,
        )
    elif init_from is not None:
        state, origin = warm_start(run.state(), run.shardings, init_from)
        run.load_state(state)
        logging.info("Starting from the weights of %s (step %d).", init_from, origin["step"])
    if is_chief:
        write_start_info(workdir, model=config.model.name, num_params=run.num_params, mesh=run.mesh)
        write_data_info(workdir, spec.info)
        if start_step is None:
            update_run_info(workdir, initialized_from=origin)
    outcome = core.run()
    if is_chief:
        update_run_info(
            workdir,
            final_step=outcome.step,
            train_seconds=outcome.train_seconds,
            best_step=checkpointer.best_step() if selects else None,
            stopped_early=outcome.stopped_early,
            stopped_by_time_limit=core.stopped_by_time,
        )
    logging.info("Done at step %d; outputs in %s.", outcome.step, workdir)
    return outcome.eval_metrics[0]
