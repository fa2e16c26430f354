"""Evaluators inside the training loop: the `config.evals` entries with `every > 0`.

At an evaluation step that is a multiple of an entry's `every` (and at the last step),
that evaluator runs on the current weights; its metrics are logged as
"evals/<evaluator>/<metric>" with the step's other evaluation metrics, and the entry is
added to the run's results (with the training time so far), so a run records its own
metric-vs-time curve. Data are loaded once and kept between evaluations.

Like the loop's own evaluation, they report on the validation split when the run has
one (`workdir/results_validation.json`): their metrics may rank checkpoints
(`train.best_metric`), stop training early or be a sweep's objective, and none of those
may see the test split. Without a validation split they report on `data.eval_split`
(`workdir/results.json`), for logging only.

`PeriodicEvaluation` is the training loop's `EvaluationHook`; `train_and_evaluate`
trains with it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import jax
import numpy as np

from aelab.data.run_splits import has_validation
from aelab.evaluation.loading import TrainedRun
from aelab.evaluation.registry import EVALS_SECTION, SchedulingOptions
from aelab.evaluation.runner import evaluate_trained_run, resolve_evals, write_results
from aelab.training import TrainCallback, train
from aelab.training.loop import LoopOptions


def _host_copy(tree):
    # Replicated arrays: any one shard is the whole array, also across processes.
    return jax.tree.map(lambda a: np.asarray(a.addressable_data(0)), tree)


def scheduled_evals(config) -> dict[str, int]:
    """{evaluator: every} of the `config.evals` entries with every > 0."""
    evals = resolve_evals(config)
    return {
        name: every
        for name, options in evals.items()
        if (every := SchedulingOptions.from_section(options, path=f"evals.{name}").every) > 0
    }


def schedule_problems(config) -> list[str]:
    """Scheduled evaluators must run at evaluation steps: every % train.eval_every == 0."""
    eval_every = LoopOptions.from_section(config.train, path="train").eval_every
    return [
        f"config.evals.{name}.every={every} is not valid: must be a multiple of "
        f"config.train.eval_every={eval_every} (evaluators run at evaluation steps)."
        for name, every in scheduled_evals(config).items()
        if eval_every <= 0 or every % eval_every
    ]


class PeriodicEvaluation:
    """Runs the scheduled evaluators of `config.evals` for the training loop (an
    `aelab.training.EvaluationHook`).

    Args:
      config: the run's config.
    """

    sections = (EVALS_SECTION,)

    def __init__(self, config):
        self.config = config
        self.every: dict[str, int] = {}
        self.evals: dict[str, dict] = {}
        self._split_cache: dict = {}
        self.workdir = self.graphdef = self.spec = None
        self.is_chief = True
        self.split = "validation" if has_validation(config.data) else "eval"

    def problems(self, config) -> list[str]:
        return schedule_problems(config)

    def start(self, *, workdir: str, graphdef, spec, is_chief: bool) -> None:
        """Reads the schedule (the config is valid by now) and the run's model."""
        self.workdir, self.graphdef, self.spec, self.is_chief = workdir, graphdef, spec, is_chief
        self.every = scheduled_evals(self.config)
        evals = resolve_evals(self.config)
        self.evals = {name: evals[name] for name in self.every}

    def __call__(
        self, step: int, state, *, is_last: bool, train_seconds: float
    ) -> dict[str, float]:
        """Runs the evaluators due at `step`; returns {"evals/<name>/<metric>": value}."""
        due = {
            name: options
            for name, options in self.evals.items()
            if step % self.every[name] == 0 or is_last
        }
        if not due:
            return {}
        params, model_state = _host_copy((state.params, state.model_state))
        run = TrainedRun(
            workdir=self.workdir,
            config=self.config,
            spec=self.spec,
            graphdef=self.graphdef,
            params=params,
            model_state=model_state,
            step=step,
            train_seconds=train_seconds,
        )
        entry = evaluate_trained_run(
            run,
            due,
            output_dir=os.path.join(self.workdir, "evaluation", f"step_{step}"),
            split_cache=self._split_cache,
            is_chief=self.is_chief,
            split=self.split,
        )
        if self.is_chief:
            write_results(self.workdir, entry, split=self.split)
        return {f"evals/{name}": value for name, value in entry["metrics"].items()}


def train_and_evaluate(
    config,
    workdir: str,
    *,
    callbacks: Sequence[TrainCallback] = (),
    config_mismatch: str = "error",
) -> dict[str, float]:
    """Trains `config` into `workdir` (`aelab.training.train`), running the evaluators of
    `config.evals` that have `every > 0` during training; the whole config, `evals`
    included, is checked before anything is written.

    Returns the last evaluation metrics. See `aelab.training.train` for the arguments
    and errors.
    """
    return train(
        config,
        workdir,
        callbacks=callbacks,
        config_mismatch=config_mismatch,
        evaluation=PeriodicEvaluation(config),
    )
