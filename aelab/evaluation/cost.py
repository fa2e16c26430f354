"""Cost: parameter count, training wall time and speed, from the run's own records."""

from __future__ import annotations

import json
import os

import numpy as np

from aelab.core.options import options_class
from aelab.data.pipeline import PipelineOptions, select_labels
from aelab.data.run_splits import run_splits
from aelab.evaluation.registry import Evaluator, register_evaluator
from aelab.training.metric_writer import read_metrics
from aelab.training.state import parameter_count


def train_examples(config) -> int:
    """The number of training examples the run drew from (after label selection)."""
    pipeline = PipelineOptions.from_section(config.data, path="data")
    return len(select_labels(run_splits(config.data).train, pipeline.train_labels))


@register_evaluator("cost")
@options_class
class CostEvaluator(Evaluator):
    """Metrics: parameter_count; and, when the run's records have them: train_seconds
    (training wall time up to the evaluated checkpoint, evaluations excluded), step,
    steps_per_sec (step / train_seconds), logged_steps_per_sec_median (the median of
    the logged train/steps_per_sec), examples_per_sec, epochs (examples drawn / training
    set size)."""

    def __call__(self, context) -> dict[str, float]:
        run = context.run
        metrics = {"parameter_count": float(parameter_count(run.params)), "step": float(run.step)}
        batch_size = int(context.config.data.batch_size)
        metrics["epochs"] = run.step * batch_size / train_examples(context.config)
        seconds = run.train_seconds
        if seconds is None and run.workdir is not None:
            path = os.path.join(run.workdir, "run_info.json")
            if os.path.exists(path):
                with open(path) as f:
                    info = json.load(f)
                if info.get("final_step") == run.step:
                    seconds = info.get("train_seconds")
        if seconds:
            metrics["train_seconds"] = float(seconds)
            metrics["steps_per_sec"] = run.step / float(seconds)
            metrics["examples_per_sec"] = metrics["steps_per_sec"] * batch_size
        if run.workdir is not None and os.path.exists(os.path.join(run.workdir, "metrics.jsonl")):
            logged = [
                r["train/steps_per_sec"]
                for r in read_metrics(run.workdir)
                if isinstance(r.get("train/steps_per_sec"), float) and r["step"] <= run.step
            ]
            if logged:
                metrics["logged_steps_per_sec_median"] = float(np.median(logged))
        return metrics
