"""Running the evaluators of a run and writing `results.json`.

    record = evaluate_run("runs/mnist_vae")                      # config.evals, best step
    record = evaluate_run("runs/mnist_vae", evals=["likelihood"], step=5000,
                          overrides={"likelihood.num_samples": 100})

`workdir/results.json` holds the latest evaluation (for step "all": the best
checkpoint's) at the top level (`step`, `metrics`
as {"<evaluator>/<metric>": value}, `seconds` per evaluator, the options used, plots,
commit, time, device) and every evaluated step under `history`, so evaluating several
checkpoints gives a metric-vs-training-time curve. Plots go to
`workdir/evaluation/step_<step>/`.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import time
from collections.abc import Mapping, Sequence

import jax
from absl import logging

from aelab.core.atomic_files import write_json_atomically
from aelab.data.pipeline import PipelineOptions
from aelab.evaluation.context import EvalContext
from aelab.evaluation.loading import (
    TrainedRun,
    checkpoint_step,
    list_checkpoint_steps,
    load_run,
)
from aelab.evaluation.registry import EVALS_SECTION, EVALUATORS, build_evaluator, plain_value
from aelab.training.log_filter import quiet_library_info_logs

RESULTS_FILE = "results.json"
# Evaluations on the validation split (for choosing settings; the loop's periodic
# evaluators when the run has one) are kept apart from the reported results.
VALIDATION_RESULTS_FILE = "results_validation.json"


def results_file(split: str) -> str:
    """The file under a work directory that evaluations on `split` ("eval" or
    "validation") are written to."""
    return VALIDATION_RESULTS_FILE if split == "validation" else RESULTS_FILE


def default_evals() -> dict[str, dict]:
    """The evaluators of `aelab.config.base_config()`."""
    return plain_value(EVALS_SECTION.defaults({}))


def resolve_evals(
    config, names: Sequence[str] | None = None, overrides: Mapping[str, object] | None = None
) -> dict[str, dict]:
    """{evaluator name: options} to run.

    Args:
      config: the run's config; its `evals` lists evaluators and their options (a run
        trained before `config.evals` existed gets the defaults).
      names: run these instead (each with its options from config.evals, if any).
      overrides: {"<evaluator>.<option>": value}, applied last.
    """
    configured = config.get("evals")
    configured = default_evals() if configured is None else plain_value(configured)
    if names:
        selected = {}
        for name in names:
            EVALUATORS.get(name)  # lists the valid names when unknown
            selected[name] = dict(configured.get(name) or {})
    else:
        selected = {name: dict(options or {}) for name, options in configured.items()}
    for key, value in (overrides or {}).items():
        name, _, option = key.partition(".")
        if not option:
            raise ValueError(
                f"Evaluator option {key!r} is not valid: write <evaluator>.<option>=<value>, "
                "e.g. likelihood.num_samples=100."
            )
        if name not in selected:
            raise ValueError(
                f"Option {key!r} is for evaluator {name!r}, which is not being run "
                f"(running: {', '.join(selected) or 'none'})."
            )
        selected[name][option] = value
    return selected


def run_evaluators(
    context: EvalContext, evals: Mapping[str, Mapping]
) -> tuple[dict[str, float], dict[str, float]]:
    """Builds every evaluator first (bad options fail before any work), then runs each.

    Returns ({"<evaluator>/<metric>": value}, {evaluator: seconds}).
    """
    evaluators = {name: build_evaluator(name, options) for name, options in evals.items()}
    metrics, seconds = {}, {}
    for name, evaluator in evaluators.items():
        start = time.perf_counter()
        values = evaluator(context)
        seconds[name] = time.perf_counter() - start
        logging.info(
            "%s (%.1f s): %s",
            name,
            seconds[name],
            " ".join(f"{k}={v:.5g}" for k, v in values.items()),
        )
        metrics.update({f"{name}/{k}": float(v) for k, v in values.items()})
    return metrics, seconds


def code_version() -> str | None:
    """The git commit of the aelab source ("+dirty" when tracked files changed), or None
    outside a git checkout."""
    here = os.path.dirname(os.path.abspath(__file__))

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", here, *args], capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "")


def device_description() -> str:
    """E.g. "cpu x1 (2 cores)" or "NVIDIA H100 80GB HBM3 x1"."""
    devices = jax.local_devices()
    kind = devices[0].device_kind
    text = f"{kind} x{len(devices)}"
    if devices[0].platform == "cpu":
        text += f" ({os.cpu_count()} cores)"
    return text


def _read_results(path: str) -> dict:
    if not os.path.exists(path):
        return {}
    try:
        with open(path) as f:
            return json.load(f)
    except json.JSONDecodeError:
        logging.warning("%s is not valid JSON; starting a new one.", path)
        return {}


def write_results(workdir: str, entry: dict, *, split: str = "eval") -> dict:
    """Merges one evaluation `entry` (one step) into workdir/results.json (for split
    "validation": results_validation.json); returns the whole record. Metrics of an
    earlier evaluation of the same step are kept unless re-measured."""
    path = os.path.join(workdir, results_file(split))
    record = _read_results(path)
    history = record.get("history", {})
    previous = history.get(str(entry["step"]), {})
    merged = dict(entry)
    merged["metrics"] = {**previous.get("metrics", {}), **entry["metrics"]}
    merged["seconds"] = {**previous.get("seconds", {}), **entry["seconds"]}
    merged["evals"] = {**previous.get("evals", {}), **entry["evals"]}
    merged["plots"] = sorted(set(previous.get("plots", [])) | set(entry["plots"]))
    history[str(entry["step"])] = merged
    record = {**merged, "history": dict(sorted(history.items(), key=lambda kv: int(kv[0])))}
    write_json_atomically(path, record, indent=2, sort_keys=True)
    return record


def evaluate_trained_run(
    run: TrainedRun,
    evals: Mapping[str, Mapping],
    *,
    output_dir: str,
    command: str | None = None,
    split_cache: dict | None = None,
    is_chief: bool = True,
    split: str = "eval",
) -> dict:
    """Runs `evals` on `run` (reporting on `split`: "eval" or "validation"); returns
    the results entry (not written anywhere)."""
    context = EvalContext(
        run,
        output_dir,
        seed=int(run.config.seed),
        split_cache=split_cache,
        is_chief=is_chief,
        report_split=split,
    )
    metrics, seconds = run_evaluators(context, evals)
    root = run.workdir or output_dir
    return {
        "workdir": run.workdir,
        "step": run.step,
        "split": _split_name(run.config, split),
        "train_seconds": run.train_seconds,
        "metrics": metrics,
        "seconds": seconds,
        "evals": {name: dict(options) for name, options in evals.items()},
        "plots": [os.path.relpath(p, root) for p in context.plots],
        "commit": code_version(),
        "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "device": device_description(),
        "command": command,
    }


def _split_name(config, split: str) -> str:
    if split == "validation":
        return "validation"
    return PipelineOptions.from_section(config.data, path="data").eval_split


def evaluate_run(
    workdir: str,
    *,
    step: int | str = "best",
    evals: Sequence[str] | None = None,
    overrides: Mapping[str, object] | None = None,
    command: str | None = None,
    split: str = "eval",
) -> dict:
    """Evaluates a trained run and writes workdir/results.json.

    Args:
      workdir: the run's work directory.
      step: "best", "latest", "all" (every saved checkpoint, oldest first) or a step.
      evals: evaluator names (default: the run's config.evals).
      overrides: {"<evaluator>.<option>": value}.
      command: the command line, recorded in results.json.
      split: "eval" (config.data.eval_split, the reported results) or "validation"
        (the run's validation split, to choose settings on; written to
        results_validation.json instead).
    Returns:
      The results record of the last evaluated step (as written).
    """
    quiet_library_info_logs()
    workdir = os.path.abspath(workdir)
    steps = list_checkpoint_steps(workdir) if step == "all" else [step]
    split_cache: dict = {}
    record = {}
    for one in steps:
        run = load_run(workdir, one)
        selected = resolve_evals(run.config, evals, overrides)
        folder = f"step_{run.step}" + ("_validation" if split == "validation" else "")
        output_dir = os.path.join(workdir, "evaluation", folder)
        entry = evaluate_trained_run(
            run,
            selected,
            output_dir=output_dir,
            command=command,
            split_cache=split_cache,
            split=split,
        )
        record = write_results(workdir, entry, split=split)
    if step == "all":
        # The best checkpoint's evaluation goes back to the top level.
        best = record["history"][str(checkpoint_step(workdir, "best"))]
        record = write_results(
            workdir, {k: v for k, v in best.items() if k != "history"}, split=split
        )
    return record
