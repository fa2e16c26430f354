"""The model card of an exported model: its README.md (also the Hugging Face Hub page).

What the model is (name, parameter count, data set and shapes), how it was trained
(steps, training time), what was measured (the evaluators' results.json of the exported
step, and the loop's own evaluation of that step from metrics.jsonl), and the two lines
that load it. Numbers only ever come from the work directory's files; a measurement
that was not made is said to be missing, never filled in.
"""

from __future__ import annotations

import math

from aelab.data.pipeline import PipelineOptions
from aelab.data.run_splits import has_validation
from aelab.evaluation.loading import TrainedRun
from aelab.training.state import parameter_count


def _number(value) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return "nan" if math.isnan(value) else f"{value:.6g}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "not recorded"
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min" if seconds < 7200 else f"{seconds / 3600:.2f} h"


def _metric_table(metrics: dict) -> list[str]:
    rows = ["| metric | value |", "|---|---|"]
    rows += [f"| `{name}` | {_number(value)} |" for name, value in sorted(metrics.items())]
    return rows


def _results_section(step: int, results: dict) -> list[str]:
    history = results.get("history", {})
    entry = history.get(str(step)) or (results if results.get("step") == step else None)
    if not entry or not entry.get("metrics"):
        evaluated = sorted(int(s) for s in history) or (
            [results["step"]] if "step" in results else []
        )
        where = f" (evaluated steps: {', '.join(map(str, evaluated))})" if evaluated else ""
        return [
            f"No evaluator results for step {step}{where}: run "
            "`python experiments/evaluate.py --workdir=DIR` before exporting to include them.",
        ]
    lines = [
        f"Evaluators on the `{entry.get('split', '?')}` split at step {step} "
        f"(results.json, commit `{entry.get('commit') or 'unknown'}`, {entry.get('time', '')}, "
        f"{entry.get('device', 'unknown device')}):",
        "",
    ]
    return lines + _metric_table(entry["metrics"])


def _loop_section(run: TrainedRun, loop_metrics: dict) -> list[str]:
    if not loop_metrics:
        return [f"The training loop recorded no evaluation at step {run.step}."]
    data = run.config.data
    split = (
        "validation"
        if has_validation(data)
        else PipelineOptions.from_section(data, path="data").eval_split
    )
    lines = [f"The training loop's evaluation on the `{split}` split at step {run.step}:", ""]
    return lines + _metric_table(loop_metrics)


def model_card(
    run: TrainedRun,
    *,
    title: str,
    run_info: dict,
    results: dict,
    loop_metrics: dict,
) -> str:
    """The README.md of an exported `run`.

    Args:
      run: the exported weights and their run.
      title: the model's name (the export directory's name).
      run_info: the work directory's run_info.json ({} when missing).
      results: the work directory's results.json ({} when missing).
      loop_metrics: {"eval/<name>": value} the loop logged at `run.step` ({} if none).
    """
    config, info = run.config, run.spec.info
    model_name = str(config.model.name)
    train_seconds = run.train_seconds
    if train_seconds is None and run_info.get("final_step") == run.step:
        train_seconds = run_info.get("train_seconds")
    facts = [
        ("model", f"`{model_name}`"),
        ("parameters", f"{parameter_count(run.params):,}"),
        (
            "data set",
            f"`{info.name}` (inputs {list(info.input_shape)}, model inputs "
            f"{list(run.spec.example_shape)})",
        ),
        ("objective", f"`{config.objective.name}`"),
        ("training steps", f"{run.step:,} (of {int(config.train.num_steps):,} configured)"),
        ("training time", _duration(train_seconds)),
        ("trained on", ", ".join(run_info.get("devices", [])[:1]) or "not recorded"),
    ]
    lines = [
        "---",
        "library_name: aelab",
        f"tags: [aelab, jax, flax, autoencoder, {model_name}]",
        "---",
        "",
        f"# {title}",
        "",
        f"A `{model_name}` trained with aelab on `{info.name}`, "
        "exported with its config and data set description: loading it needs neither the "
        "training work directory nor the data set.",
        "",
        "| | |",
        "|---|---|",
        *[f"| {name} | {value} |" for name, value in facts],
        "",
        "## Results",
        "",
        *_results_section(run.step, results),
        "",
        *_loop_section(run, loop_metrics),
        "",
        "## Use",
        "",
        "```python",
        "from aelab.evaluation import load_trained",
        "",
        'run = load_trained("PATH")  # this directory, or "hf://OWNER/REPO[@REVISION]"',
        "model = run.model()  # an NNX module with these weights",
        "```",
        "",
        'Warm-start a new run from it with `config.train.init_from = "PATH"`.',
        "",
        "## Files",
        "",
        "- `config.json`: the run's whole config.",
        "- `data_info.json`: the data set's description (input shape, value range, splits).",
        "- `params.safetensors`: parameters (`params/...`) and model state (`model_state/...`);"
        " no optimizer state. Its metadata holds the step and the aelab version.",
        "",
    ]
    return "\n".join(lines)
