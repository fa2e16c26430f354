"""The steps of a population: one member's train and eval step with its traced
hyperparameters, and the two ways of running P of them ("vmap", "sequential").

"vmap" runs all members in one jitted call over stacked states [P, ...]; "sequential"
runs each member's own jitted call in turn, which is what P separate runs compute. On a
CPU, batched small matmuls can be slower than plain ones (benchmarks/population_sweep.py),
so `choose_strategy` times both and keeps the faster.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import optax

from aelab.objectives import build_objective
from aelab.sweeps.population_fields import section_values
from aelab.training.nonfinite import skip_nonfinite_updates
from aelab.training.optimizers import build_optimizer
from aelab.training.schedules import build_schedule
from aelab.training.state import TrainState
from aelab.training.step import make_eval_step, make_train_step

STRATEGIES = ("vmap", "sequential")


def _scaled(inner: optax.GradientTransformation, factor: jax.Array) -> optax.GradientTransformation:
    """`inner` with its updates multiplied by `factor`; the same state as `inner`."""

    def update(updates, state, params=None):
        updates, state = inner.update(updates, state, params)
        return jax.tree.map(lambda u: factor * u, updates), state

    return optax.GradientTransformation(inner.init, update)


def make_member_fns(
    graphdef,
    config,
    num_steps: int,
    *,
    compute_dtype: str | None = None,
    skip_nonfinite: bool = False,
):
    """(train_step, eval_step) of one member, with its traced hyperparameters.

    train_step(state, hparams, batch) -> (state, metrics);
    eval_step(state, hparams, batch, key) -> (metric sums, count).
    `hparams` maps dotted fields of `optimizer` and `objective` to scalars.
    """

    def objective_of(hparams):
        return build_objective(config.objective, overrides=section_values(hparams, "objective"))

    def train_step(state: TrainState, hparams, batch):
        values = section_values(hparams, "optimizer")
        learning_rate = values.pop("learning_rate", None)
        if learning_rate is None:
            optimizer = build_optimizer(config.optimizer, num_steps, overrides=values)
            schedule = build_schedule(config.optimizer, num_steps)
        else:
            # Schedules test their values in Python (e.g. `peak == 0`), so they cannot
            # take a traced rate. Every registered schedule but "piecewise" and every
            # optimizer's update are linear in the rate: build them for rate 1, scale.
            unit = build_optimizer(config.optimizer, num_steps, learning_rate=1.0, overrides=values)
            optimizer = _scaled(unit, learning_rate)
            unit_schedule = build_schedule(config.optimizer, num_steps, learning_rate=1.0)
            schedule = lambda count: learning_rate * unit_schedule(count)
        step = make_train_step(
            graphdef, objective_of(hparams), optimizer, schedule, compute_dtype=compute_dtype
        )
        if skip_nonfinite:
            step = skip_nonfinite_updates(step)
        return step(state, batch)

    def eval_step(state: TrainState, hparams, batch, key):
        return make_eval_step(graphdef, objective_of(hparams))(state, batch, key)

    return train_step, eval_step


def stack_trees(trees: Sequence[Any]) -> Any:
    """P pytrees of one structure -> one pytree of [P, ...] arrays."""
    return jax.tree.map(lambda *xs: jnp.stack(xs), *trees)


def member_tree(tree: Any, index: int) -> Any:
    """Member `index` of a stacked pytree."""
    return jax.tree.map(lambda x: x[index], tree)


class PopulationTrainer:
    """K updates of every member per call, holding the members' states in the form its
    strategy runs fastest on.

    "vmap" keeps one stacked pytree [P, ...] and updates it in one jitted call.
    "sequential" keeps a list of P member states and runs one jitted call per member, so
    it costs what P separate runs cost (no stacking or slicing per call).

    Call `hold(stacked)` to get the held form, `__call__(held, hparams, batches)` ->
    (held, metrics {name: [K, P]}) to train, `stacked(held)` for evaluation and
    checkpoints.

    Args:
      member_train_step: one member's `train_step(state, hparams, batch)`.
      strategy: "vmap" or "sequential".
      size: P.
      shardings: (stacked state shardings, metrics sharding), or None: wherever JAX
        puts them (all replicated, for a replicated mesh).
    """

    def __init__(self, member_train_step, strategy: str, size: int, shardings=None):
        if strategy not in STRATEGIES:
            raise ValueError(f"Unknown population strategy {strategy!r}; use one of {STRATEGIES}.")
        self.strategy, self.size = strategy, size
        if strategy == "vmap":
            step = jax.vmap(member_train_step, in_axes=(0, 0, None))
            self._train = jax.jit(
                lambda states, hparams, batches: jax.lax.scan(
                    lambda s, batch: step(s, hparams, batch), states, batches
                ),
                out_shardings=shardings,
            )
        else:
            self._train = jax.jit(
                lambda state, hparams, batches: jax.lax.scan(
                    lambda s, batch: member_train_step(s, hparams, batch), state, batches
                )
            )
            self._split = jax.jit(lambda tree: [member_tree(tree, i) for i in range(size)])
            self._join = jax.jit(
                stack_trees, out_shardings=None if shardings is None else shardings[0]
            )
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


def choose_strategy(
    member_train_step,
    stacked_states,
    hparams,
    batches,
    size: int,
    *,
    repeats: int = 3,
    shardings=None,
) -> tuple[PopulationTrainer, dict[str, float]]:
    """Times each strategy on `batches` (the states are not changed).

    Returns (the faster strategy's trainer, {strategy: seconds per call}).
    """
    timings, trainers = {}, {}
    for strategy in STRATEGIES:
        trainer = trainers[strategy] = PopulationTrainer(
            member_train_step, strategy, size, shardings
        )
        held = trainer.hold(stacked_states)
        jax.block_until_ready(trainer(held, hparams, batches))  # compile
        start = time.perf_counter()
        for _ in range(repeats):
            jax.block_until_ready(trainer(held, hparams, batches))
        timings[strategy] = (time.perf_counter() - start) / repeats
    return trainers[min(timings, key=timings.get)], timings
