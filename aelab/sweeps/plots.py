"""PNG plots of a sweep's results rows (matplotlib, no display needed).

- objective_vs_params.png: the objective against each searched field;
- history.png: the objective by trial, with the best so far;
- parallel_coordinates.png: every trial as a line through its field values and objective.

Completed trials are drawn in colour; pruned ones in grey at their last reported value.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
from matplotlib.figure import Figure


def _numeric(values: list[Any]) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def _positions(values: list[Any], dimension: dict) -> tuple[np.ndarray, list[str] | None]:
    """x positions of `values` and, for categorical ones, their tick labels."""
    if dimension.get("kind") == "choice" or not _numeric(values):
        labels = [str(v) for v in dimension.get("values", sorted({str(v) for v in values}))]
        return np.array([labels.index(str(v)) for v in values], float), labels
    return np.array(values, float), None


def _plotted(rows: list[dict]) -> list[dict]:
    return [
        r
        for r in rows
        if r["state"] in ("COMPLETE", "PRUNED")
        and r["value"] is not None
        and math.isfinite(r["value"])
    ]


def plot_objective_vs_params(rows: list[dict], description: dict, path: str) -> None:
    space = description.get("space", {})
    metric = description.get("metric", "value")
    fig = Figure(figsize=(3.2 * max(1, len(space)), 3.0), dpi=100, layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, max(1, len(space))))
    for ax, (field, dimension) in zip(axes, space.items(), strict=False):
        for state, style in (("COMPLETE", {"color": "C0"}), ("PRUNED", {"color": "0.6"})):
            subset = [r for r in rows if r["state"] == state]
            if not subset:
                continue
            x, labels = _positions([r[field] for r in subset], dimension)
            ax.scatter(x, [r["value"] for r in subset], s=18, label=state.lower(), **style)
            if labels is not None:
                ax.set_xticks(range(len(labels)), labels, rotation=30, fontsize=7)
        if dimension.get("log"):
            ax.set_xscale("log")
        ax.set_xlabel(field, fontsize=8)
        ax.set_ylabel(metric, fontsize=8)
        ax.tick_params(labelsize=7)
    if rows:
        axes[0].legend(fontsize=7)
    fig.savefig(path)


def plot_history(rows: list[dict], description: dict, path: str) -> None:
    metric = description.get("metric", "value")
    sign = 1.0 if description.get("direction", "minimize") == "minimize" else -1.0
    fig = Figure(figsize=(4.5, 3.0), dpi=100, layout="constrained")
    ax = fig.subplots()
    for state, color in (("COMPLETE", "C0"), ("PRUNED", "0.6")):
        subset = [r for r in rows if r["state"] == state]
        ax.scatter(
            [r["trial"] for r in subset],
            [r["value"] for r in subset],
            s=18,
            color=color,
            label=state.lower(),
        )
    complete = sorted((r for r in rows if r["state"] == "COMPLETE"), key=lambda r: r["trial"])
    if complete:
        best = np.minimum.accumulate([sign * r["value"] for r in complete]) * sign
        ax.step([r["trial"] for r in complete], best, where="post", color="C1", label="best")
    ax.set_xlabel("trial", fontsize=8)
    ax.set_ylabel(metric, fontsize=8)
    ax.tick_params(labelsize=7)
    if rows:
        ax.legend(fontsize=7)
    fig.savefig(path)


def plot_parallel_coordinates(rows: list[dict], description: dict, path: str) -> None:
    space = description.get("space", {})
    metric = description.get("metric", "value")
    complete = [r for r in rows if r["state"] == "COMPLETE"]
    names = [*space, metric]
    fig = Figure(figsize=(1.6 * len(names) + 1.5, 3.2), dpi=100, layout="constrained")
    ax = fig.subplots()
    if complete:
        columns = []
        for field, dimension in space.items():
            x, _ = _positions([r[field] for r in complete], dimension)
            if dimension.get("log"):
                x = np.log10(x)
            columns.append(x)
        values = np.array([r["value"] for r in complete], float)
        columns.append(values)
        matrix = np.stack(columns, axis=1)
        low, high = matrix.min(axis=0), matrix.max(axis=0)
        scaled = (matrix - low) / np.where(high > low, high - low, 1.0)
        order = (values - values.min()) / max(float(np.ptp(values)), 1e-12)
        colours = fig.colorbar(
            ax.scatter([], [], c=[], cmap="viridis", vmin=values.min(), vmax=values.max()),
            ax=ax,
        )
        colours.set_label(metric, fontsize=8)
        cmap = colours.cmap
        for line, shade in zip(scaled, order, strict=True):
            ax.plot(range(len(names)), line, color=cmap(shade), alpha=0.8)
    ax.set_xticks(range(len(names)), names, rotation=20, fontsize=7)
    ax.set_yticks([0, 1], ["low", "high"], fontsize=7)
    ax.set_xlim(-0.2, len(names) - 0.8)
    fig.savefig(path)


def write_plots(rows: list[dict], description: dict, directory: str) -> list[str]:
    """Writes the three plots into `directory`; returns their paths."""
    os.makedirs(directory, exist_ok=True)
    shown = _plotted(rows)
    paths = []
    for name, plot in (
        ("objective_vs_params.png", plot_objective_vs_params),
        ("history.png", plot_history),
        ("parallel_coordinates.png", plot_parallel_coordinates),
    ):
        path = os.path.join(directory, name)
        plot(shown, description, path)
        paths.append(path)
    return paths
