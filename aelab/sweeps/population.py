"""Population training: P models that differ in seed and continuous hyperparameters,
trained together through the loop core (`aelab.training.loop`) in one jitted step.

For small models one run cannot fill an accelerator; P of them side by side can. Every
member sees the same batches (the data order is the base config's data seed) and
equals the sequential run `train_and_evaluate(config with that member's values and
config.data.seed = the base data seed)` up to float rounding (tested to 1e-5).

The population is one run of the loop core: the same validation, work-directory lock,
preemption (SIGTERM checkpoints and stops), scheduling, metric windows, evaluation,
checkpointing, non-finite policy (a member whose loss stops being finite fails alone
under "stop"; "skip" drops its bad updates), `compute_dtype`, `param_sharding` and
`device_resident`. What it cannot honour is refused with a `ConfigError`
(`population_fields`): varying a field that changes the program, early stopping, and
evaluators during training.

What can be vmapped (`VMAPPABLE_FIELDS`): values that only enter the computation as
numbers. The seed (parameter initialisation, training noise), `optimizer.learning_rate`
(also through its schedule), `optimizer.weight_decay` (adamw), `objective.beta` (the
ELBO's KL weight) and `model.dropout_rate` (dense models; the rate lives in the model
state, and every member's rate must be > 0: a rate of 0 removes the layer).

How the P members run (`strategy`): "vmap", "sequential", or "auto": on a CPU, time
both on the first batches and keep the faster (`population_step.choose_strategy`);
elsewhere vmap.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import numpy as np
from absl import logging
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from aelab.core.errors import ConfigError
from aelab.core.schema import Report
from aelab.data.run_splits import run_splits
from aelab.evaluation.config_schema import CONFIG_SCHEMA
from aelab.sweeps.population_fields import (
    VMAPPABLE_FIELDS,
    check_vmappable,
    member_config,
    population_hparams,
    unsupported_problems,
    vmappable_problems,
)
from aelab.sweeps.population_step import (
    PopulationTrainer,
    choose_strategy,
    make_member_fns,
    member_tree,
    stack_trees,
)
from aelab.training.batches import make_train_batches
from aelab.training.checkpointing import Checkpointer
from aelab.training.config_schema import TRAINING_SCHEMA
from aelab.training.experiment import build_run_spec
from aelab.training.log_filter import quiet_library_info_logs
from aelab.training.loop import (
    LoopCore,
    LoopOptions,
    Member,
    TrainCallback,
    check_callbacks,
)
from aelab.training.mesh import MeshOptions, make_data_mesh, replicated, state_sharding_fn
from aelab.training.nonfinite import NonFiniteOptions
from aelab.training.objective_evaluation import average_over_split, evaluation_batches
from aelab.training.optimizers import build_optimizer
from aelab.training.preemption import PreemptionWatcher
from aelab.training.saved_config import ConfigMismatchError, reconcile_saved_config
from aelab.training.seeds import data_seed
from aelab.training.single_run import new_member
from aelab.training.state import TrainState, create_train_state
from aelab.training.step import PrecisionOptions
from aelab.training.validation import check_config, raise_problems
from aelab.training.workdir_lock import WorkdirLock

__all__ = [
    "VMAPPABLE_FIELDS",
    "MemberResult",
    "PopulationTrainer",
    "check_population",
    "check_vmappable",
    "init_population",
    "make_member_fns",
    "member_config",
    "member_tree",
    "population_hparams",
    "stack_trees",
    "train_population",
]

MEMBERS_FILE = "members.json"


@dataclasses.dataclass
class MemberResult:
    """One member's outcome, in the shape of a sweep trial's results."""

    values: dict[str, Any]
    workdir: str
    final_metrics: dict[str, float]
    best_metrics: dict[str, float] | None
    best_step: int | None
    steps: int
    history: list[tuple[int, dict[str, float]]]
    error: str | None


def init_population(
    config, members, example_shape, output_shape, mesh, num_steps: int, state_sharding=None
) -> tuple[Any, TrainState]:
    """(graphdef, stacked train states [P, ...]): each member initialised exactly as its
    sequential run would be (same seed, same model config)."""
    graphdef, states = None, []
    for values in members:
        member = member_config(config, values)
        optimizer = build_optimizer(member.optimizer, num_steps)
        member_graphdef, state, _ = create_train_state(
            member.model,
            example_shape,
            output_shape,
            optimizer,
            seed=int(member.seed),
            mesh=mesh,
            state_sharding_fn=state_sharding,
        )
        if graphdef is not None and member_graphdef != graphdef:
            raise ConfigError(
                f"Population member {values} builds a different model than the first "
                "member; only VMAPPABLE_FIELDS may differ (and dropout rates must be > 0)."
            )
        graphdef = member_graphdef
        states.append(state)
    return graphdef, stack_trees(states)


def _stacked_shardings(member_state, mesh, sharding_fn):
    """Shardings of a stacked state: each member array's sharding, the member axis
    unsharded in front."""
    abstract = jax.eval_shape(lambda s: s, member_state)
    member = (
        jax.tree.map(lambda _: replicated(mesh), abstract)
        if sharding_fn is None
        else sharding_fn(abstract, mesh)
    )
    return jax.tree.map(lambda s: NamedSharding(mesh, P(None, *s.spec)), member)


class Population:
    """P members as the loop core's `Trainee`.

    Args:
      config: the base config; members: per member {dotted field: value}.
      spec: the run spec; mesh: the device mesh.
      strategy: "vmap", "sequential" or "auto".
    """

    def __init__(self, config, members: Sequence[Mapping[str, Any]], spec, mesh, strategy: str):
        self.config, self.spec, self.mesh = config, spec, mesh
        self.num_members = len(members)
        loop = LoopOptions.from_section(config.train, path="train")
        self.splits = run_splits(config.data)
        sharding_fn = state_sharding_fn(config.mesh)
        self.graphdef, stacked = init_population(
            config,
            members,
            spec.example_shape,
            spec.output_shape,
            mesh,
            loop.num_steps,
            state_sharding=sharding_fn,
        )
        self.shardings = _stacked_shardings(member_tree(stacked, 0), mesh, sharding_fn)
        self._stacked = jax.device_put(stacked, self.shardings)
        self.hparams = population_hparams(config, members)
        self._member_train, member_eval = make_member_fns(
            self.graphdef,
            config,
            loop.num_steps,
            compute_dtype=PrecisionOptions.from_section(config.train, path="train").compute_dtype,
            skip_nonfinite=NonFiniteOptions.from_section(config.train, path="train").nonfinite
            == "skip",
        )
        # Evaluation is short and infrequent: always one vmapped call.
        self._eval_step = jax.jit(
            jax.vmap(
                lambda state, hparams, key, batch: member_eval(state, hparams, batch, key),
                in_axes=(0, 0, 0, None),
            )
        )
        self._eval_keys = jax.numpy.stack(
            [jax.random.PRNGKey(int(member_config(config, v).seed) + 1) for v in members]
        )
        self.batches = make_train_batches(
            config,
            spec.transform,
            spec.example_shape,
            self.splits.train,
            mesh,
            seed=data_seed(config),
        )
        self.strategy = strategy
        self.trainer: PopulationTrainer | None = None
        self._held = None

    @property
    def _out_shardings(self):
        return (self.shardings, replicated(self.mesh))

    def _choose_trainer(self, batches) -> None:
        strategy = self.strategy
        if strategy == "auto":
            strategy = "vmap"
            if jax.default_backend() == "cpu" and self.num_members > 1:
                self.trainer, timings = choose_strategy(
                    self._member_train,
                    self._stacked,
                    self.hparams,
                    batches,
                    self.num_members,
                    shardings=self._out_shardings,
                )
                logging.info(
                    "Population of %d: seconds per call %s; using %s.",
                    self.num_members,
                    {k: round(v, 5) for k, v in timings.items()},
                    self.trainer.strategy,
                )
        if self.trainer is None:
            self.trainer = PopulationTrainer(
                self._member_train, strategy, self.num_members, self._out_shardings
            )
        self._held = self.trainer.hold(self._stacked)

    def train(self, k: int):
        batches = self.batches.next_stacked(k)
        if self.trainer is None:
            self._choose_trainer(batches)  # times the strategies on these batches
        self._held, metrics = self.trainer(self._held, self.hparams, batches)
        return metrics

    def per_member(self, metrics: dict) -> list[dict]:
        return [
            {name: np.asarray(values)[:, i] for name, values in metrics.items()}
            for i in range(self.num_members)
        ]

    def evaluate(self, step: int, *, is_last: bool, train_seconds: float) -> list[dict]:
        states = self.state()
        vmapped_fold = jax.vmap(jax.random.fold_in, in_axes=(0, None))
        averages = average_over_split(
            lambda batch, index: self._eval_step(
                states, self.hparams, vmapped_fold(self._eval_keys, index), batch
            ),
            evaluation_batches(self.config, self.spec, self.splits),
            self.mesh,
        )
        return [
            {name: float(values[i]) for name, values in averages.items()}
            for i in range(self.num_members)
        ]

    def after_evaluation(self, step: int, writers) -> None:
        del step, writers  # No image grids per member.

    def state(self):
        return self._stacked if self.trainer is None else self.trainer.stacked(self._held)

    def abstract_state(self):
        return jax.tree.map(
            lambda x, s: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=s),
            self._stacked,
            self.shardings,
        )

    def load_state(self, state) -> None:
        self._stacked = state
        if self.trainer is not None:
            self._held = self.trainer.hold(state)


def check_population(config, members: Sequence[Mapping[str, Any]]) -> Report:
    """Everything wrong with training `members` of `config` as a population: the base
    config's checks, the fields a population cannot vary, the config fields it cannot
    honour, and each member's values against the declared options."""
    report = check_config(config, schema=CONFIG_SCHEMA)
    if report.problems:
        return report
    fields = sorted({field for values in members for field in values})
    report.problems += vmappable_problems(fields, config)
    report.problems += unsupported_problems(config)
    for values in members:
        member_report, _ = TRAINING_SCHEMA.check(member_config(config, values))
        report.problems += [f"member {dict(values)}: {p}" for p in member_report.problems]
    return report


def _reconcile_members(workdir: str, members: list[dict], resume_step: int | None) -> None:
    path = os.path.join(workdir, MEMBERS_FILE)
    if resume_step is not None and os.path.exists(path):
        with open(path) as f:
            saved = json.load(f)
        if saved != members:
            raise ConfigMismatchError(
                f"The population in {workdir} was started with members {saved}, not "
                f"{members}; its checkpoints go up to step {resume_step}. Use a new workdir."
            )
    with open(path, "w") as f:
        json.dump(members, f, indent=2)


def train_population(
    config,
    members: Sequence[Mapping[str, Any]],
    workdir: str,
    *,
    strategy: str = "auto",
    on_evaluation: Callable[[int, list[dict[str, float]]], None] | None = None,
    callbacks: Sequence[Sequence[TrainCallback]] = (),
) -> list[MemberResult]:
    """Trains len(members) models at once through the loop core; each member's logs go
    to `workdir/members/member_NN/` (metrics.jsonl, TensorBoard), the stacked states to
    `workdir/checkpoints/` (a rerun resumes from there).

    Args:
      config: the base config (the members' shared fields).
      members: per member {dotted field: value}, fields from `VMAPPABLE_FIELDS`.
      workdir: the population's directory (held by a lock while it trains).
      strategy: "vmap", "sequential", or "auto" (see the module docstring).
      on_evaluation: called with (step, per-member eval metrics) after each evaluation.
      callbacks: one sequence of `TrainCallback`s per member (or none at all), each
        called with its member's own values, as in a single run (one tracking run per
        member); a member that failed gets no more calls.

    Returns:
      One MemberResult per member. A member whose loss stops being finite is marked
      with an error; the others train on.

    Raises:
      ConfigError: a value or field the population cannot honour, before anything is
        written.
      TrainingPreempted: SIGTERM / SIGINT arrived; a checkpoint was saved first.
    """
    quiet_library_info_logs()
    members = [dict(values) for values in members]
    callbacks = [list(member_callbacks) for member_callbacks in callbacks]
    if callbacks and len(callbacks) != len(members):
        raise ValueError(
            f"{len(callbacks)} callback lists for {len(members)} members: pass one sequence "
            "of TrainCallbacks per member (an empty one for a member without any)."
        )
    check_callbacks([c for member_callbacks in callbacks for c in member_callbacks])
    raise_problems(check_population(config, members))
    workdir = os.path.abspath(workdir)
    with WorkdirLock(workdir, enabled=jax.process_index() == 0), PreemptionWatcher() as stop:
        return _train_population(config, members, workdir, strategy, on_evaluation, callbacks, stop)


def _train_population(config, members, workdir, strategy, on_evaluation, callbacks, preemption):
    is_chief = jax.process_index() == 0
    checkpointer = Checkpointer(
        os.path.join(workdir, "checkpoints"), keep=1, best_metric=None, async_save=False
    )
    resume_step = checkpointer.latest_step()
    reconcile_saved_config(
        config, workdir, resume_step=resume_step, write=is_chief, complete=CONFIG_SCHEMA.complete
    )
    if is_chief:
        _reconcile_members(workdir, members, resume_step)
    spec = build_run_spec(config)
    mesh = make_data_mesh(MeshOptions.from_section(config.mesh, path="mesh").num_devices)
    population = Population(config, members, spec, mesh, strategy)
    member_dirs = [os.path.join(workdir, "members", f"member_{i:02d}") for i in range(len(members))]
    records = [
        new_member(member_config(config, v), d) for v, d in zip(members, member_dirs, strict=True)
    ]
    on_log, on_member_evaluation, on_checkpoint = _member_hooks(callbacks, records)
    core = LoopCore(
        population,
        loop=LoopOptions.from_section(config.train, path="train"),
        checkpointer=checkpointer,
        members=records,
        preemption=preemption,
        workdir=workdir,
        is_chief=is_chief,
        isolate_failures=True,
        rank_checkpoints=False,
        keep_history=True,
        on_log=on_log,
        on_evaluation=([on_evaluation] if on_evaluation is not None else []) + on_member_evaluation,
        on_checkpoint=on_checkpoint,
    )
    start = core.restore()
    if start is not None:
        logging.info("Population: resuming from the checkpoint at step %d.", start)
    outcome = core.run()
    return _member_results(members, core.members, config, outcome.step)


def _member_hooks(callbacks: list[list[TrainCallback]], records: list[Member]):
    """The loop core's (on_log, on_evaluation, on_checkpoint) hooks that call each
    member's callbacks with its own values, skipping members that have failed."""
    if not callbacks:
        return [], [], []

    def live():
        return [
            (i, member_callbacks)
            for i, (record, member_callbacks) in enumerate(zip(records, callbacks, strict=True))
            if record.error is None
        ]

    def on_log(step: int, scalars: list[dict]) -> None:
        for i, member_callbacks in live():
            for callback in member_callbacks:
                callback.on_log(step, scalars[i])

    def on_evaluation(step: int, metrics: list[dict]) -> None:
        for i, member_callbacks in live():
            for callback in member_callbacks:
                callback.on_evaluation(step, metrics[i])

    def on_checkpoint(step: int) -> None:
        for _, member_callbacks in live():
            for callback in member_callbacks:
                callback.on_checkpoint(step)

    return [on_log], [on_evaluation], [on_checkpoint]


def _member_results(members, records, config, step) -> list[MemberResult]:
    metric = records[0].early_stopping.metric
    sign = 1.0 if records[0].early_stopping.mode == "min" else -1.0
    results = []
    for values, record in zip(members, records, strict=True):
        history = [(int(s), m) for s, m in record.history]
        finite = [(s, m) for s, m in history if math.isfinite(m.get(metric, math.nan))]
        best_step, best = (
            min(finite, key=lambda sm: sign * sm[1][metric]) if finite else (None, None)
        )
        final = history[-1][1] if history else {}
        error = record.error
        if error is None and not all(math.isfinite(v) for v in final.values()):
            error = "NonFiniteLossError: evaluation metrics are not finite"
        results.append(
            MemberResult(
                values=dict(values),
                workdir=record.workdir,
                final_metrics=final,
                best_metrics=best,
                best_step=best_step,
                steps=step,
                history=history,
                error=error,
            )
        )
    return results
