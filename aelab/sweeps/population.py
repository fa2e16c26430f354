"""Population training: P models that differ in seed and continuous hyperparameters,
trained together in one jitted step with `jax.vmap` over their stacked train states.

For small models one run cannot fill an accelerator; P of them side by side can. Every
member sees the same batches (the data order is the base config's data seed) and
equals the sequential run `train_and_evaluate(config with that member's values and
config.data.seed = the base data seed)` up to float rounding (tested to 1e-5).

What can be vmapped (`VMAPPABLE_FIELDS`): values that only enter the computation as
numbers. The seed (parameter initialisation, training noise), `optimizer.learning_rate`
(also through its schedule), `optimizer.weight_decay` (adamw), `objective.beta` (the
ELBO's KL weight) and `model.dropout_rate` (dense models; the rate lives in the model
state, and every member's rate must be > 0: a rate of 0 removes the layer). What cannot:
anything that changes shapes or the program: layer sizes, latent size, architecture,
optimizer or objective name, batch size, number of steps, penalties switched on or off.

How the P members run (`strategy`): "vmap" runs all of them in one jitted call;
"sequential" runs each member's own jitted call in turn, which is what P separate runs
compute. "auto" times both on the first batches and keeps the faster: on a CPU,
batched small matmuls can be slower than plain ones (measured in
benchmarks/population_sweep.py), so a population is not slower than sequential runs
there; on accelerators it uses vmap.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
from absl import logging

from aelab.data import load_split
from aelab.data.pipeline import ProcessSlice, eval_batches, to_global_arrays, train_dataset
from aelab.objectives import build_objective
from aelab.training.batches import HostBatches
from aelab.training.checkpointing import Checkpointer
from aelab.training.experiment import build_run_spec
from aelab.training.log_filter import quiet_library_info_logs
from aelab.training.mesh import batch_sharding, make_data_mesh
from aelab.training.metric_writer import MetricWriter
from aelab.training.optimizers import build_optimizer
from aelab.training.schedules import build_schedule
from aelab.training.seeds import data_seed
from aelab.training.state import TrainState, create_train_state
from aelab.training.step import make_eval_step, make_train_step

VMAPPABLE_FIELDS = {
    "seed": "parameter initialisation and training noise",
    "optimizer.learning_rate": "the peak learning rate, through any schedule",
    "optimizer.weight_decay": "adamw's decoupled weight decay",
    "objective.beta": "the ELBO's KL weight",
    "model.dropout_rate": "dense models' dropout rate (every member's rate > 0)",
}

# Fields that are numbers inside the jitted step (the seed only matters at init).
_TRACED_SECTIONS = ("optimizer", "objective")


def check_vmappable(fields: Sequence[str], config: ml_collections.ConfigDict) -> None:
    """Raises ValueError naming any field a population cannot vary for `config`."""
    bad = [f for f in fields if f not in VMAPPABLE_FIELDS]
    if bad:
        raise ValueError(
            f"Population sweeps can only vary {', '.join(VMAPPABLE_FIELDS)}; not "
            f"{', '.join(bad)} (they change shapes or the program). Use a normal sweep "
            "(no population_size) for those."
        )
    if "optimizer.weight_decay" in fields and config.optimizer.name != "adamw":
        raise ValueError(
            f"optimizer.weight_decay has no effect with optimizer {config.optimizer.name!r}; "
            "set config.optimizer.name = 'adamw' to sweep it."
        )
    if "optimizer.learning_rate" in fields and config.optimizer.get("schedule") == "piecewise":
        raise ValueError(
            "The 'piecewise' schedule lists its rates in optimizer.learning_rates; sweep "
            "optimizer.learning_rate with another schedule, or run a normal sweep."
        )
    if "objective.beta" in fields and config.objective.name != "elbo":
        raise ValueError(
            f"objective.beta has no effect with objective {config.objective.name!r}; sweep "
            "it with the 'elbo' objective."
        )


def member_config(config: ml_collections.ConfigDict, values: Mapping[str, Any]):
    """The equivalent sequential run's config: `config` with one member's values and the
    population's shared data seed."""
    member = config.copy_and_resolve_references()
    member.data.seed = data_seed(config)
    for dotted, value in values.items():
        *parents, leaf = dotted.split(".")
        node = member
        for part in parents:
            node = node[part]
        node[leaf] = value
    return member


def _traced_section(section: ml_collections.ConfigDict, values: Mapping[str, jax.Array]):
    # A type-unsafe copy, so traced arrays can stand where the config holds floats.
    copy = ml_collections.ConfigDict(section.to_dict(), type_safe=False)
    for name, value in values.items():
        copy[name] = value
    return copy


def _section_values(hparams: Mapping[str, jax.Array], section: str) -> dict[str, jax.Array]:
    prefix = section + "."
    return {k[len(prefix) :]: v for k, v in hparams.items() if k.startswith(prefix)}


def _scaled(inner: optax.GradientTransformation, factor: jax.Array) -> optax.GradientTransformation:
    """`inner` with its updates multiplied by `factor`; the same state as `inner`."""

    def update(updates, state, params=None):
        updates, state = inner.update(updates, state, params)
        return jax.tree.map(lambda u: factor * u, updates), state

    return optax.GradientTransformation(inner.init, update)


def make_member_fns(graphdef, config, num_steps: int):
    """(train_step, eval_step) of one member, with its traced hyperparameters.

    train_step(state, hparams, batch) -> (state, metrics);
    eval_step(state, hparams, batch, key) -> (metric sums, count).
    `hparams` maps dotted fields of `optimizer` and `objective` to scalars.
    """

    def objective_of(hparams):
        return build_objective(
            _traced_section(config.objective, _section_values(hparams, "objective"))
        )

    def train_step(state: TrainState, hparams, batch):
        values = _section_values(hparams, "optimizer")
        learning_rate = values.pop("learning_rate", None)
        optimizer_config = _traced_section(config.optimizer, values)
        optimizer = build_optimizer(optimizer_config, num_steps)
        schedule = build_schedule(optimizer_config, num_steps)
        if learning_rate is not None:
            # Schedules test their values in Python (e.g. `peak == 0`), so they cannot
            # take a traced rate. Every registered schedule but "piecewise" and every
            # optimizer's update are linear in the rate: build them for rate 1, scale.
            optimizer_config.learning_rate = 1.0
            optimizer = _scaled(build_optimizer(optimizer_config, num_steps), learning_rate)
            unit = build_schedule(optimizer_config, num_steps)
            schedule = lambda count: learning_rate * unit(count)
        step = make_train_step(graphdef, objective_of(hparams), optimizer, schedule)
        return step(state, batch)

    def eval_step(state: TrainState, hparams, batch, key):
        return make_eval_step(graphdef, objective_of(hparams))(state, batch, key)

    return train_step, eval_step


STRATEGIES = ("vmap", "sequential")


class PopulationTrainer:
    """K updates of every member per call, holding the members' states in the form its
    strategy runs fastest on.

    "vmap" keeps one stacked pytree [P, ...] and updates it in one jitted call.
    "sequential" keeps a list of P member states and runs one jitted call per member, so
    it costs what P separate runs cost (no stacking or slicing per call).

    Call `hold(stacked)` to get the held form, `__call__(held, hparams, batches)` ->
    (held, metrics {name: [K, P]}) to train, `stacked(held)` for evaluation and
    checkpoints.
    """

    def __init__(self, member_train_step, strategy: str, size: int):
        if strategy not in STRATEGIES:
            raise ValueError(f"Unknown population strategy {strategy!r}; use one of {STRATEGIES}.")
        self.strategy, self.size = strategy, size
        if strategy == "vmap":
            step = jax.vmap(member_train_step, in_axes=(0, 0, None))
            self._train = jax.jit(
                lambda states, hparams, batches: jax.lax.scan(
                    lambda s, batch: step(s, hparams, batch), states, batches
                )
            )
        else:
            self._train = jax.jit(
                lambda state, hparams, batches: jax.lax.scan(
                    lambda s, batch: member_train_step(s, hparams, batch), state, batches
                )
            )
            self._split = jax.jit(lambda tree: [member_tree(tree, i) for i in range(size)])
            self._join = jax.jit(stack_trees)
            self._join_metrics = jax.jit(
                lambda ms: jax.tree.map(lambda *m: jnp.stack(m, axis=1), *ms)
            )
        self._member_hparams = None

    def hold(self, stacked_states):
        return stacked_states if self.strategy == "vmap" else self._split(stacked_states)

    def stacked(self, held):
        return held if self.strategy == "vmap" else self._join(held)

    def __call__(self, held, hparams, batches):
        if self.strategy == "vmap":
            return self._train(held, hparams, batches)
        if self._member_hparams is None:
            self._member_hparams = self._split(hparams)
        outputs = [
            self._train(state, h, batches)
            for state, h in zip(held, self._member_hparams, strict=True)
        ]
        return [o[0] for o in outputs], self._join_metrics([o[1] for o in outputs])


def stack_trees(trees: Sequence[Any]) -> Any:
    """P pytrees of one structure -> one pytree of [P, ...] arrays."""
    return jax.tree.map(lambda *xs: jnp.stack(xs), *trees)


def member_tree(tree: Any, index: int) -> Any:
    """Member `index` of a stacked pytree."""
    return jax.tree.map(lambda x: x[index], tree)


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
    config, members, example_shape, output_shape, mesh, num_steps: int
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
        )
        if graphdef is not None and member_graphdef != graphdef:
            raise ValueError(
                f"Population member {values} builds a different model than the first "
                "member; only VMAPPABLE_FIELDS may differ (and dropout rates must be > 0)."
            )
        graphdef = member_graphdef
        states.append(state)
    return graphdef, stack_trees(states)


def population_hparams(config, members) -> dict[str, jax.Array]:
    """{dotted field: [P] values} of the fields traced inside the step."""
    fields = sorted(
        {f for values in members for f in values if f.split(".")[0] in _TRACED_SECTIONS}
    )
    configs = [member_config(config, values) for values in members]
    return {
        field: jnp.asarray([c[field.split(".")[0]][field.split(".")[1]] for c in configs])
        for field in fields
    }


def choose_strategy(
    member_train_step, stacked_states, hparams, batches, size: int, *, repeats: int = 3
) -> tuple[PopulationTrainer, dict[str, float]]:
    """Times each strategy on `batches` (the states are not changed).

    Returns (the faster strategy's trainer, {strategy: seconds per call}).
    """
    timings, trainers = {}, {}
    for strategy in STRATEGIES:
        trainer = trainers[strategy] = PopulationTrainer(member_train_step, strategy, size)
        held = trainer.hold(stacked_states)
        jax.block_until_ready(trainer(held, hparams, batches))  # compile
        start = time.perf_counter()
        for _ in range(repeats):
            jax.block_until_ready(trainer(held, hparams, batches))
        timings[strategy] = (time.perf_counter() - start) / repeats
    return trainers[min(timings, key=timings.get)], timings


def train_population(
    config: ml_collections.ConfigDict,
    members: Sequence[Mapping[str, Any]],
    workdir: str,
    *,
    strategy: str = "auto",
    on_evaluation: Callable[[int, list[dict[str, float]]], None] | None = None,
) -> list[MemberResult]:
    """Trains len(members) models at once; each member's logs go to
    `workdir/members/member_NN/` (metrics.jsonl, TensorBoard), the stacked states to
    `workdir/checkpoints/` (a rerun resumes from there).

    Args:
      config: the base config (the members' shared fields).
      members: per member {dotted field: value}, fields from `VMAPPABLE_FIELDS`.
      workdir: the population's directory.
      strategy: "vmap", "sequential", or "auto": on a CPU, time both on the first
        batches and keep the faster; elsewhere vmap.
      on_evaluation: called with (step, per-member eval metrics) after each evaluation.

    Returns:
      One MemberResult per member. A member whose loss stops being finite is marked
      with an error; the others train on.
    """
    quiet_library_info_logs()
    size = len(members)
    for values in members:
        check_vmappable(list(values), config)
    workdir = os.path.abspath(workdir)
    spec = build_run_spec(config)
    num_steps = int(config.train.num_steps)
    steps_per_call = int(config.train.get("steps_per_call", 1))
    intervals = {
        name: int(config.train.get(name, 0))
        for name in ("log_every", "eval_every", "checkpoint_every")
    }
    mesh = make_data_mesh(config.get("mesh", {}).get("num_devices"))
    global_batch = int(config.data.batch_size)
    eval_batch = int(config.data.get("eval_batch_size") or global_batch)
    train_source, _ = load_split(config.data, config.data.get("train_split", "train"))
    eval_source, _ = load_split(config.data, config.data.get("eval_split", "test"))

    graphdef, states = init_population(
        config, members, spec.example_shape, spec.output_shape, mesh, num_steps
    )
    hparams = population_hparams(config, members)
    member_train, member_eval = make_member_fns(graphdef, config, num_steps)

    batches = HostBatches(
        train_dataset(
            train_source,
            spec.transform,
            ProcessSlice.current(global_batch),
            seed=data_seed(config),
            labels=config.data.get("train_labels"),
        ),
        mesh,
    )
    checkpointer = Checkpointer(
        os.path.join(workdir, "checkpoints"), keep=1, best_metric=None, async_save=False
    )
    member_dirs = [os.path.join(workdir, "members", f"member_{i:02d}") for i in range(size)]
    loop_state = {"history": [[] for _ in range(size)], "errors": [None] * size}
    start_step = checkpointer.latest_step()
    if start_step is not None:
        states, loop_state = checkpointer.restore(
            start_step, jax.tree.map(jnp.zeros_like, states), batches
        )
        logging.info("Population: resuming from the checkpoint at step %d.", start_step)
    step = int(start_step or 0)
    writers = [MetricWriter(d, resume_step=step) for d in member_dirs]

    def next_event(at: int) -> int:
        return min(num_steps, *((at // n + 1) * n for n in intervals.values() if n > 0))

    batches_probe = trainer = None
    if strategy == "auto":
        strategy = "vmap"
        if jax.default_backend() == "cpu" and size > 1 and step < num_steps:
            batches_probe = batches.next_stacked(min(steps_per_call, next_event(step) - step))
            trainer, timings = choose_strategy(member_train, states, hparams, batches_probe, size)
            logging.info(
                "Population of %d: seconds per call %s; using %s.",
                size,
                {k: round(v, 5) for k, v in timings.items()},
                trainer.strategy,
            )
    if trainer is None:
        trainer = PopulationTrainer(member_train, strategy, size)
    states = trainer.hold(states)
    # Evaluation is short and infrequent: always one vmapped call.
    eval_step = jax.jit(
        jax.vmap(
            lambda state, hparams, key, batch: member_eval(state, hparams, batch, key),
            in_axes=(0, 0, 0, None),
        )
    )
    eval_keys = jnp.stack(
        [jax.random.PRNGKey(int(member_config(config, v).seed) + 1) for v in members]
    )

    sums: list[dict[str, float]] = [{} for _ in range(size)]
    count = 0
    try:
        while step < num_steps:
            if batches_probe is not None:
                # The probe's batches are the first of this run; train on them.
                stacked, batches_probe = batches_probe, None
                k = int(jax.tree.leaves(stacked)[0].shape[0])
            else:
                k = min(steps_per_call, next_event(step) - step)
                stacked = batches.next_stacked(k)
            states, metrics = trainer(states, hparams, stacked)
            metrics = jax.device_get(metrics)
            for i in range(size):
                for name, values in metrics.items():
                    sums[i][name] = sums[i].get(name, 0.0) + float(np.sum(values[:, i]))
                bad = [n for n, v in metrics.items() if not np.all(np.isfinite(v[:, i]))]
                if bad and loop_state["errors"][i] is None:
                    loop_state["errors"][i] = (
                        f"NonFiniteLossError: {', '.join(bad)} not finite by step {step + k}"
                    )
            count += k
            step += k
            at_end = step == num_steps
            if (intervals["log_every"] and step % intervals["log_every"] == 0) or at_end:
                for i, writer in enumerate(writers):
                    writer.write_scalars(
                        step, {f"train/{n}": v / count for n, v in sums[i].items()}
                    )
                sums, count = [{} for _ in range(size)], 0
            if (intervals["eval_every"] and step % intervals["eval_every"] == 0) or at_end:
                results = _evaluate(
                    eval_step,
                    trainer.stacked(states),
                    hparams,
                    eval_keys,
                    eval_source,
                    spec,
                    mesh,
                    config,
                    eval_batch,
                )
                for i, writer in enumerate(writers):
                    writer.write_scalars(step, results[i])
                    loop_state["history"][i].append([step, results[i]])
                if on_evaluation is not None:
                    on_evaluation(step, results)
            if (
                intervals["checkpoint_every"] and step % intervals["checkpoint_every"] == 0
            ) or at_end:
                checkpointer.save(step, trainer.stacked(states), batches, loop_state)
    finally:
        checkpointer.close()
        for writer in writers:
            writer.close()
    return _member_results(members, member_dirs, loop_state, config, step)


def _evaluate(eval_step, states, hparams, keys, source, spec, mesh, config, eval_batch):
    """Per-member eval metrics, averaged exactly over the split (as the loop does)."""
    sharding = batch_sharding(mesh)
    sums, total = None, 0.0
    batches = eval_batches(
        source,
        spec.transform,
        ProcessSlice.current(eval_batch),
        seed=data_seed(config),
        labels=config.data.get("eval_labels"),
        max_examples=config.train.get("eval_examples"),
    )
    for index, batch in enumerate(batches):
        batch_keys = jax.vmap(jax.random.fold_in, in_axes=(0, None))(keys, index)
        metric_sums, count = eval_step(
            states, hparams, batch_keys, to_global_arrays(batch, sharding)
        )
        metric_sums, count = jax.device_get((metric_sums, count))
        sums = (
            {n: np.asarray(v, np.float64) for n, v in metric_sums.items()}
            if sums is None
            else {n: sums[n] + v for n, v in metric_sums.items()}
        )
        total += float(count[0])
    size = len(next(iter(sums.values())))
    return [{f"eval/{n}": float(v[i] / total) for n, v in sums.items()} for i in range(size)]


def _member_results(members, member_dirs, loop_state, config, step) -> list[MemberResult]:
    metric = config.train.get("best_metric", "eval/loss")
    sign = 1.0 if config.train.get("best_mode", "min") == "min" else -1.0
    results = []
    for i, values in enumerate(members):
        history = [(int(s), m) for s, m in loop_state["history"][i]]
        finite = [(s, m) for s, m in history if math.isfinite(m.get(metric, math.nan))]
        best_step, best = (
            min(finite, key=lambda sm: sign * sm[1][metric]) if finite else (None, None)
        )
        final = history[-1][1] if history else {}
        error = loop_state["errors"][i]
        if error is None and not all(math.isfinite(v) for v in final.values()):
            error = "NonFiniteLossError: evaluation metrics are not finite"
        results.append(
            MemberResult(
                values=dict(values),
                workdir=member_dirs[i],
                final_metrics=final,
                best_metrics=best,
                best_step=best_step,
                steps=step,
                history=history,
                error=error,
            )
        )
    return results
