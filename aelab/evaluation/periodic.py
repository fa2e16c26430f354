"""Evaluators inside the training loop: the `config.evals` entries with `every > 0`.

At an evaluation step that is a multiple of an entry's `every` (and at the last step),
that evaluator runs on the current weights; its metrics are logged as
"evals/<evaluator>/<metric>" with the step's other evaluation metrics, and the entry is
added to `workdir/results.json` (with the training time so far), so a run records its
own metric-vs-time curve. Data are loaded once and kept between evaluations.
"""

from __future__ import annotations

import os

import jax
import numpy as np

from aelab.evaluation.loading import TrainedRun
from aelab.evaluation.registry import build_evaluator
from aelab.evaluation.runner import evaluate_trained_run, resolve_evals, write_results


def _host_copy(tree):
    # Replicated arrays: any one shard is the whole array, also across processes.
    return jax.tree.map(lambda a: np.asarray(a.addressable_data(0)), tree)


class PeriodicEvaluation:
    """Runs the scheduled evaluators of `config.evals` for the training loop.

    Args:
      config: the run's config.
      workdir: the run's work directory.
      graphdef: the model's graph definition.
      spec: the run's `RunSpec`.
      is_chief: whether this process writes files.
    """

    def __init__(self, config, workdir: str, graphdef, spec, *, is_chief: bool):
        evals = resolve_evals(config)
        eval_every = int(config.train.get("eval_every", 0))
        self.every: dict[str, int] = {}
        for name, options in evals.items():
            every = int(options.get("every") or 0)
            if every <= 0:
                continue
            if eval_every <= 0 or every % eval_every:
                raise ValueError(
                    f"config.evals.{name}.every={every} must be a multiple of "
                    f"config.train.eval_every={eval_every}: evaluators run at evaluation steps."
                )
            build_evaluator(name, options)  # bad options fail before training starts
            self.every[name] = every
        self.evals = {name: evals[name] for name in self.every}
        self.config, self.workdir, self.graphdef, self.spec = config, workdir, graphdef, spec
        self.is_chief = is_chief
        self._split_cache: dict = {}

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
        )
        if self.is_chief:
            write_results(self.workdir, entry)
        return {f"evals/{name}": value for name, value in entry["metrics"].items()}
