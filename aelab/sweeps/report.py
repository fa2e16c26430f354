"""A sweep's results: one row per trial, as CSV and JSON, plots, and the best command.

Everything comes from the study (the storage), not from trial directories, so a report
can be written on any machine that reaches the database.

Columns: trial, state, attempts, each searched field, the objective `value`,
`final/<metric>` and `best/<metric>` (at `best_step`, by the sweep's metric), steps,
wall_seconds, resumed_from_step, workdir, worker, error.
"""

from __future__ import annotations

import csv
import io
import math
import os
import shlex
from typing import Any

import optuna
from optuna.trial import FrozenTrial

from aelab.core.atomic_files import write_json_atomically, write_text_atomically
from aelab.sweeps.plots import write_plots
from aelab.sweeps.study import DESCRIPTION_ATTR, attempts_by_slot

RESULTS_CSV = "sweep_results.csv"
RESULTS_JSON = "sweep_results.json"


def _value_of(trial: FrozenTrial) -> float | None:
    if trial.values:
        return float(trial.values[0])
    if trial.state.name == "PRUNED" and trial.intermediate_values:
        return float(trial.intermediate_values[max(trial.intermediate_values)])
    return None


def _error_of(attempts: list[FrozenTrial]) -> str | None:
    last = attempts[-1]
    if last.state.name != "FAIL":
        return None
    return last.user_attrs.get("error") or "worker died (no heartbeat within the grace period)"


def results_rows(study: optuna.Study) -> list[dict[str, Any]]:
    """One dict per trial slot, in slot order (see the module docstring for columns)."""
    description = study.user_attrs.get(DESCRIPTION_ATTR, {})
    fields = list(description.get("space", {}))
    rows = []
    for slot, attempts in attempts_by_slot(study).items():
        last = attempts[-1]
        attrs = last.user_attrs
        row: dict[str, Any] = {"trial": slot, "state": last.state.name, "attempts": len(attempts)}
        for field in fields:
            row[field] = last.params.get(field)
        row["value"] = _value_of(last)
        for name, value in sorted(attrs.get("final_metrics", {}).items()):
            row[f"final/{name}"] = value
        for name, value in sorted(attrs.get("best_metrics", {}).items()):
            row[f"best/{name}"] = value
        row["best_step"] = attrs.get("best_step")
        row["steps"] = attrs.get("steps")
        row["wall_seconds"] = sum(a.user_attrs.get("wall_seconds", 0.0) for a in attempts)
        row["resumed_from_step"] = attrs.get("resumed_from_step")
        row["workdir"] = attrs.get("workdir")
        row["worker"] = attrs.get("worker")
        row["error"] = _error_of(attempts)
        rows.append(row)
    return rows


def best_row(rows: list[dict], direction: str) -> dict | None:
    """The complete trial with the best value."""
    done = [r for r in rows if r["state"] == "COMPLETE" and r["value"] is not None]
    if not done:
        return None
    sign = 1.0 if direction == "minimize" else -1.0
    return min(done, key=lambda r: sign * r["value"])


def _columns(rows: list[dict]) -> list[str]:
    columns: list[str] = []
    for row in rows:
        columns.extend(c for c in row if c not in columns)
    return columns


def write_tables(rows: list[dict], sweep_dir: str, description: dict) -> tuple[str, str]:
    """Writes sweep_results.csv and sweep_results.json; returns their paths."""
    csv_path = os.path.join(sweep_dir, RESULTS_CSV)
    json_path = os.path.join(sweep_dir, RESULTS_JSON)
    columns = _columns(rows)
    table = io.StringIO(newline="")
    writer = csv.DictWriter(table, fieldnames=columns)
    writer.writeheader()
    for row in rows:
        writer.writerow({c: "" if row.get(c) is None else row[c] for c in columns})
    write_text_atomically(csv_path, table.getvalue())
    best = best_row(rows, description.get("direction", "minimize"))
    summary = {
        "metric": description.get("metric"),
        "direction": description.get("direction"),
        "best_trial": None if best is None else best["trial"],
        "trials": rows,
    }
    write_json_atomically(json_path, summary, indent=2, default=str)
    return csv_path, json_path


def _format_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    return str(value)


def format_table(rows: list[dict], description: dict) -> str:
    """A Markdown table of the key columns: trial, state, fields, value, steps, time."""
    fields = list(description.get("space", {}))
    columns = ["trial", "state", *fields, "value", "steps", "wall_seconds"]
    metric = description.get("metric", "value")
    header = [c if c != "value" else metric for c in columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(_format_cell(row.get(c)) for c in columns) + " |")
    return "\n".join(lines)


def _override_value(value: Any) -> str:
    if isinstance(value, str) and value.startswith("(") and value.endswith(")"):
        return value  # a tuple choice, stored by its repr: config_flags parses it back
    if isinstance(value, list | tuple):
        return repr(tuple(value))
    return str(value)


def best_command(row: dict, description: dict, workdir: str = "runs/best") -> str:
    """`python experiments/train.py ...` that trains the given trial's config."""
    config_file = description["config_file"]
    relative = os.path.relpath(config_file)
    config_path = relative if not relative.startswith("..") else config_file
    if description.get("config_arg"):
        config_path += f":{description['config_arg']}"
    parts = ["python", "experiments/train.py", f"--config={config_path}", f"--workdir={workdir}"]
    values = {**description.get("overrides", {})}
    values.update({field: row[field] for field in description.get("space", {})})
    for field, value in values.items():
        parts.append(f"--config.{field}={_override_value(value)}")
    return " ".join(shlex.quote(p) for p in parts)


def write_report(study: optuna.Study, sweep_dir: str) -> dict:
    """Writes tables and plots for `study` into `sweep_dir`.

    Returns {"rows", "table", "best", "command", "csv", "json", "plots"}.
    """
    description = study.user_attrs.get(DESCRIPTION_ATTR, {})
    rows = results_rows(study)
    os.makedirs(sweep_dir, exist_ok=True)
    csv_path, json_path = write_tables(rows, sweep_dir, description)
    plots = write_plots(rows, description, os.path.join(sweep_dir, "plots"))
    best = best_row(rows, description.get("direction", "minimize"))
    return {
        "rows": rows,
        "table": format_table(rows, description),
        "best": best,
        "command": None if best is None else best_command(best, description),
        "csv": csv_path,
        "json": json_path,
        "plots": plots,
    }
