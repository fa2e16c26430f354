"""What a sweep is: a base config, a search space, a sampler, an objective metric.

A sweep file is a Python file with `get_sweep(arg)` returning a `Sweep`:

    def get_sweep(arg=None):
        return Sweep(
            config_file=os.path.join(os.path.dirname(__file__), "..", "quickstart.py"),
            space={"optimizer.learning_rate": Float(1e-4, 1e-2, log=True)},
            sampler="tpe",
            metric="eval/loss",
            direction="minimize",
            num_trials=20,
        )

`python experiments/sweep.py --sweep=configs/sweeps/X.py[:arg] --sweep_dir=DIR` runs it.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from typing import Any

import ml_collections
import optuna

import aelab.config as config_module
from aelab.core.registry import Registry
from aelab.sweeps.space import Dimension, grid_points
from aelab.training.seeds import data_seed

SAMPLERS = Registry("sampler")


@SAMPLERS.register("random")
def _random(seed: int | None, options: dict) -> optuna.samplers.BaseSampler:
    return optuna.samplers.RandomSampler(seed=seed, **options)


@SAMPLERS.register("tpe")
def _tpe(seed: int | None, options: dict) -> optuna.samplers.BaseSampler:
    return optuna.samplers.TPESampler(seed=seed, **options)


@SAMPLERS.register("grid")
def _grid(seed: int | None, options: dict) -> optuna.samplers.BaseSampler:
    # Grid points are enqueued as fixed parameters when the study is prepared, so the
    # sampler itself is never asked for a value.
    return optuna.samplers.RandomSampler(seed=seed)


DIRECTIONS = ("minimize", "maximize")
TRIAL_VALUES = ("final", "best")


@dataclasses.dataclass
class Sweep:
    """A hyperparameter sweep over one experiment config.

    Attributes:
      config_file: the experiment config (a `configs/*.py` file) every trial starts from.
      space: {dotted config field: Dimension}; "seed" and "optimizer.learning_rate" are
        fields like any other.
      metric: the evaluation metric to optimise (a key of the loop's eval metrics, e.g.
        "eval/loss"); every evaluation reports it to the pruner.
      direction: "minimize" or "maximize".
      value: what a finished trial is worth: "final" (the metric at its last
        evaluation) or "best" (its best value at any evaluation: right when the run
        keeps the checkpoint that metric ranks best, `train.best_metric`).
      num_trials: how many trials; None for a grid sweep means the whole grid.
      sampler: "grid", "random" or "tpe" (see `SAMPLERS`).
      sampler_options: keyword arguments of the Optuna sampler (e.g. n_startup_trials).
      pruner: an Optuna pruner (e.g. `optuna.pruners.MedianPruner(n_warmup_steps=500)`)
        that may stop a trial at an evaluation; None never prunes.
      config_arg: the config's variant (`get_config(arg)`), e.g. "smoke".
      overrides: {dotted field: value} applied to the base config before the searched
        values (fields that every trial shares, such as a shorter `train.num_steps`).
      seed: the samplers' seed (each worker mixes in its own index).
      population_size: when set, the sweep trains this many members at once with
        `jax.vmap` (see `aelab.sweeps.population`); only vmappable fields may be searched.
      population_strategy: "auto", "vmap" or "sequential" (see `train_population`).
    """

    config_file: str
    space: Mapping[str, Dimension]
    metric: str = "eval/loss"
    direction: str = "minimize"
    value: str = "final"
    num_trials: int | None = None
    sampler: str = "tpe"
    sampler_options: dict = dataclasses.field(default_factory=dict)
    pruner: optuna.pruners.BasePruner | None = None
    config_arg: str | None = None
    overrides: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    seed: int = 0
    population_size: int | None = None
    population_strategy: str = "auto"

    def __post_init__(self):
        self.config_file = os.path.abspath(self.config_file)
        if self.direction not in DIRECTIONS:
            raise ValueError(
                f"Sweep direction {self.direction!r} is not valid; use one of {DIRECTIONS}."
            )
        if self.value not in TRIAL_VALUES:
            raise ValueError(f"Sweep value {self.value!r} is not valid; use one of {TRIAL_VALUES}.")
        SAMPLERS.get(self.sampler)  # the error lists valid names
        if not self.space:
            raise ValueError("A sweep needs at least one field in its search space.")
        for name, dimension in self.space.items():
            if not isinstance(dimension, Dimension):
                raise ValueError(
                    f"Search space field {name!r} is {dimension!r}; use Float, Int or Choice "
                    "from aelab.sweeps."
                )
        if self.sampler == "grid":
            size = len(grid_points(self.space))
            if self.num_trials not in (None, size):
                raise ValueError(
                    f"A grid sweep runs its whole grid ({size} points); num_trials="
                    f"{self.num_trials} does not match. Leave num_trials unset."
                )
            self.num_trials = size
        if self.num_trials is None or self.num_trials < 1:
            raise ValueError(
                f"Sweep num_trials={self.num_trials}: set a positive number of trials."
            )
        if self.population_size is not None and self.population_size < 1:
            raise ValueError(f"Sweep population_size={self.population_size} must be >= 1.")

    def base_config(self) -> ml_collections.ConfigDict:
        """The experiment config with the sweep's fixed overrides applied."""
        config = load_config_file(self.config_file, self.config_arg)
        set_fields(config, dict(self.overrides), allow_new=True)
        return config

    def trial_config(self, params: Mapping[str, Any]) -> ml_collections.ConfigDict:
        """The base config with one trial's searched values ({dotted field: value})."""
        config = self.base_config()
        set_fields(config, params, allow_new=False)
        return config

    def make_sampler(self, worker_index: int = 0) -> optuna.samplers.BaseSampler:
        """The sampler of one worker; workers get different seeds so that parallel
        random draws do not repeat each other."""
        return SAMPLERS.get(self.sampler)(self.seed + 7919 * worker_index, self.sampler_options)

    def grid(self) -> list[dict[str, Any]] | None:
        """The grid points as Optuna stores them, for sampler "grid"; else None."""
        if self.sampler != "grid":
            return None
        return [
            {name: self.space[name].to_storage(v) for name, v in point.items()}
            for point in grid_points(self.space)
        ]

    def describe(self) -> dict:
        """A JSON-able summary, stored with the study (reports read it from there)."""
        overrides = {k: _jsonable(v) for k, v in self.overrides.items()}
        if self.population_size:
            # Population members share the base config's data order; a member rerun
            # alone needs it explicitly (its own seed would otherwise reseed the data).
            overrides["data.seed"] = data_seed(self.base_config())
        return {
            "config_file": self.config_file,
            "config_arg": self.config_arg,
            "overrides": overrides,
            "space": {name: d.describe() for name, d in self.space.items()},
            "metric": self.metric,
            "direction": self.direction,
            "value": self.value,
            "sampler": self.sampler,
            "num_trials": self.num_trials,
            "population_size": self.population_size,
        }


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def load_config_file(path: str, arg: str | None = None) -> ml_collections.ConfigDict:
    """`get_config(arg)` of a config file, as `--config=path[:arg]` loads it."""
    return config_module.load_config_file(path, arg)


def split_spec(spec: str) -> tuple[str, str | None]:
    """ "path.py:arg" -> (path.py, arg); "path.py" -> (path.py, None)."""
    path, sep, arg = spec.partition(":")
    return path, (arg if sep else None)


def load_sweep(spec: str) -> Sweep:
    """The Sweep of a sweep file, given as "path.py" or "path.py:arg"."""
    path, arg = split_spec(spec)
    sweep = config_module.call_file_function(path, "get_sweep", arg, what="sweep")
    if not isinstance(sweep, Sweep):
        raise ValueError(f"get_sweep() of {path} returned {type(sweep).__name__}, not a Sweep.")
    return sweep


def set_fields(config: ml_collections.ConfigDict, values: Mapping[str, Any], *, allow_new: bool):
    """Sets dotted fields of `config` in place.

    Raises ValueError for a field that does not exist (unless `allow_new`, which still
    needs the parent to exist) and TypeError for a value of the wrong type.
    """
    for dotted, value in values.items():
        *parents, leaf = dotted.split(".")
        node = config
        for i, part in enumerate(parents):
            if not isinstance(node, ml_collections.ConfigDict) or part not in node:
                raise ValueError(
                    f"Config field {dotted!r}: {'.'.join(parents[: i + 1])!r} does not exist "
                    "in the base config."
                )
            node = node[part]
        if not isinstance(node, ml_collections.ConfigDict):
            raise ValueError(f"Config field {dotted!r}: its parent is not a ConfigDict.")
        if leaf not in node and not allow_new:
            raise ValueError(
                f"Config field {dotted!r} does not exist in the base config (a typo?). If the "
                "model reads it with a default, add it to the sweep's `overrides` first."
            )
        if isinstance(value, list):
            value = tuple(value)
        node[leaf] = value


def describe_json(sweep: Sweep) -> str:
    return json.dumps(sweep.describe(), sort_keys=True)
