r"""Writes docs/results.md from the results.json files of the experiments it lists.

  python docs/make_results.py --runs=runs

The experiments, in docs/results_experiments.py, each name their work directory (under
--runs), the metric(s) they report, the published value where one exists, and the
commands that produce it. Numbers only ever come from a results.json written by
`experiments/evaluate.py`. A row whose run is not under --runs (or lacks the metric)
keeps its measured cells from the results.md being rewritten (run directories are not
committed, so a rerun of one experiment on another machine does not erase the others'
numbers; --keep_previous=false drops them), else it says "not run yet". The NLL-vs-time
section and the rows of the tables over seeds (`SEED_TABLES`) are kept the same way.
"""

import dataclasses
import json
import os
import statistics
import sys

from absl import app, flags

# results_experiments.py sits next to this file; put its folder on the path also when
# this script is loaded by path rather than run (as its test does).
_DOCS = os.path.dirname(os.path.abspath(__file__))
if _DOCS not in sys.path:
    sys.path.insert(0, _DOCS)

from results_experiments import (  # noqa: E402, F401
    EXPERIMENTS,
    IWAE_SOURCE,
    SEED_TABLES,
    TASK_NOTES,
    Experiment,
    SeedTable,
)

_RUNS = flags.DEFINE_string("runs", "runs", "Directory holding the experiments' work dirs.")
_README = flags.DEFINE_string(
    "readme",
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md"),
    "README whose excerpt (between the markers below) is rewritten; empty: leave it.",
)
_OUTPUT = flags.DEFINE_string(
    "output", os.path.join(os.path.dirname(os.path.abspath(__file__)), "results.md"), "Output."
)
_KEEP_PREVIOUS = flags.DEFINE_bool(
    "keep_previous",
    True,
    "Keep the measured rows (and NLL curve) of the existing --output for runs not under --runs.",
)


def _read_json(path: str) -> dict | None:
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def _format(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}" if abs(value) < 1 else f"{value:.2f}"


def _minutes(seconds) -> str:
    if seconds is None:
        return ""
    return f"{seconds:.0f} s" if seconds < 60 else f"{seconds / 60:.1f} min"


COLUMNS = (
    "dataset",
    "model",
    "metric",
    "ours",
    "baseline, same run",
    "beats it",
    "goal / published",
    "epochs",
    "wall time",
    "device",
    "commit",
    "command",
)
# The cells a rerun elsewhere keeps from the previous results.md (by column name, so an
# older table's columns are read too).
MEASURED = ("ours", "baseline, same run", "beats it", "epochs", "wall time", "device", "commit")
CURVE_HEADING = "## Test NLL vs training time"


def _cells(line: str) -> list[str]:
    """The cells of a markdown table row (no cell holds a "|")."""
    return [cell.strip() for cell in line.strip()[1:-1].split("|")]


def _table_header() -> list[str]:
    return ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]


@dataclasses.dataclass(frozen=True)
class Previous:
    """What an earlier results.md measured: the rows ({column: cell}) of each (dataset,
    model, metric), and its NLL-vs-time section (lines), if any. Two experiments may
    share the three (the same run against two baselines); `measured` tells them apart by
    the baseline label their baseline cell ends with."""

    rows: dict[tuple[str, str, str], list[dict[str, str]]]
    curve: list[str]
    seed_rows: dict[str, str] = dataclasses.field(default_factory=dict)

    def measured(self, experiment: Experiment) -> dict[str, str] | None:
        """The earlier row of `experiment` (under its model label, or the label it had
        before, `experiment.formerly`), or None."""
        rows = None
        for model in filter(None, (experiment.model, experiment.formerly)):
            rows = rows or self.rows.get((experiment.dataset, model, experiment.metric_label))
        if not rows:
            return None
        label = f"({experiment.baseline_label})"
        for named in rows:
            if experiment.baseline_label and named.get("baseline, same run", "").endswith(label):
                return named
        return rows[0]

    @classmethod
    def read(cls, path: str | None) -> "Previous":
        if not path or not os.path.exists(path):
            return cls({}, [])
        with open(path) as f:
            lines = f.read().splitlines()
        rows, seed_rows = {}, {}
        header, in_seed_table = None, False
        for line in lines:
            if not line.startswith("|"):
                header, in_seed_table = None, False
                continue
            if set(line) <= set("|-: "):  # the header's separator row
                continue
            cells = _cells(line)
            if cells[:2] == list(SEED_COLUMNS):
                in_seed_table = True
            elif in_seed_table:
                if cells[1] != "not run yet":
                    seed_rows[cells[0]] = line
            elif cells[:3] == ["dataset", "model", "metric"]:
                header = cells
            elif header and len(cells) == len(header):
                named = dict(zip(header, cells, strict=True))
                if named.get("ours", "not run yet") != "not run yet":
                    key = (named["dataset"], named["model"], named["metric"])
                    rows.setdefault(key, []).append(named)
        curve = []
        if CURVE_HEADING in lines:
            curve = lines[lines.index(CURVE_HEADING) + 2 :]
            curve = [line for line in curve if "figures/nll_vs_time.png" not in line]
        return cls(rows, curve, seed_rows)


def _verdict(experiment: Experiment, ours: float, baseline: float) -> str:
    margin = ours - baseline
    if margin == 0:
        return "tie"
    wins = margin > 0 if experiment.higher_is_better else margin < 0
    return f"{'yes' if wins else 'no'} ({margin:+.3g})"


def measured_cells(experiment: Experiment, runs: str) -> dict[str, str] | None:
    """The measured cells of `experiment` from runs/<id>/results.json (the baselines
    from runs/<baseline_run>/results.json when they come from another run); None when a
    metric is missing."""
    results = _read_json(os.path.join(runs, experiment.id, "results.json")) or {}
    metrics = results.get("metrics", {})
    if not all(name in metrics for name in experiment.metrics):
        return None
    baseline_metrics = metrics
    if experiment.baseline_run:
        other = _read_json(os.path.join(runs, experiment.baseline_run, "results.json")) or {}
        baseline_metrics = other.get("metrics", {})
    cells = {"ours": " / ".join(_format(metrics[name]) for name in experiment.metrics)}
    if experiment.baselines and all(name in baseline_metrics for name in experiment.baselines):
        values = [baseline_metrics[name] for name in experiment.baselines]
        cells["baseline, same run"] = " / ".join(_format(v) for v in values)
        cells["beats it"] = _verdict(experiment, metrics[experiment.metrics[0]], values[0])
    elif experiment.baselines:
        cells["baseline, same run"] = "not measured"
    epochs = metrics.get("cost/epochs")
    cells["epochs"] = "" if epochs is None else f"{epochs:.1f}"
    times = [("train", results.get("train_seconds"))]
    if results.get("seconds"):
        times.append(("eval", sum(results["seconds"].values())))
    cells["wall time"] = ", ".join(f"{k} {_minutes(v)}" for k, v in times if v is not None)
    cells["device"] = results.get("device", "")
    cells["commit"] = (results.get("commit") or "")[:10]
    return cells


def row(experiment: Experiment, runs: str, number: int, previous: Previous | None = None) -> str:
    """One markdown table row for `experiment`, from runs/<id>/results.json (or, when
    that is missing, the measured cells of `previous`)."""
    cells = measured_cells(experiment, runs)
    earlier = previous.measured(experiment) if cells is None and previous is not None else None
    kept = earlier is not None
    if kept:
        # Its baseline cell already carries the label: adding it again would repeat it
        # once more at every regeneration.
        cells = {k: v for k, v in earlier.items() if k in MEASURED}
    if cells is None:
        cells = {"ours": "not run yet"}
    if not experiment.baselines:
        # No classic tool computes this (a likelihood): the paper's value is the yardstick.
        published = f"; published: {experiment.published}" if experiment.published else ""
        cells["baseline, same run"] = f"none{published}"
    else:
        cells.setdefault("baseline, same run", "")
        label = experiment.baseline_label
        if cells["baseline, same run"] and label and not kept:
            cells["baseline, same run"] += f" ({label})"
    published = experiment.published + (f" ({experiment.source})" if experiment.source else "")
    goal = " / ".join(x for x in (experiment.goal, published) if x)
    cells.update(
        {
            "dataset": experiment.dataset,
            "model": experiment.model,
            "metric": experiment.metric_label,
            "goal / published": goal or "n/a",
            "command": f"[{number}](#command-{number})",
        }
    )
    return "| " + " | ".join(cells.get(column, "") for column in COLUMNS) + " |"


def nll_curve(experiment: Experiment, runs: str, figures: str | None) -> list[str]:
    """Markdown lines: the test NLL at every evaluated checkpoint vs training time (and,
    if `figures` is a directory, its plot as nll_vs_time.png there)."""
    results = _read_json(os.path.join(runs, experiment.curve, "results.json")) or {}
    points = sorted(
        (entry["train_seconds"], entry["metrics"]["likelihood/nll"], int(step))
        for step, entry in results.get("history", {}).items()
        if "likelihood/nll" in entry.get("metrics", {}) and entry.get("train_seconds")
    )
    if len(points) < 2:
        return []
    k = results["evals"]["likelihood"]["num_samples"]
    final = _read_json(os.path.join(runs, experiment.id, "results.json")) or {}
    lines = [
        f"`{experiment.id}`: a copy of the run, evaluated at each of its checkpoints with",
        f"k={k:,} importance samples (cheaper than the table's k=5,000, so each value is a",
        "slightly looser bound):",
        "",
        "   ```bash",
        f"   cp -r runs/{experiment.id} runs/{experiment.curve}",
        f"   python experiments/evaluate.py --workdir=runs/{experiment.curve} --step=all \\",
        f"       --evals=likelihood --option=likelihood.num_samples={k}",
        "   ```",
        "",
        f"| step | training time | test NLL, k={k:,} (nats) |",
        "|---|---|---|",
    ]
    lines += [f"| {step:,} | {_minutes(seconds)} | {nll:.2f} |" for seconds, nll, step in points]
    if "likelihood/nll" in final.get("metrics", {}):
        lines += ["", f"At the last step, k=5,000 gives {final['metrics']['likelihood/nll']:.2f}."]
    if figures:
        _plot_curve(points, k, experiment.id, os.path.join(figures, "nll_vs_time.png"))
    return [*lines, ""]


def _plot_curve(points: list[tuple[float, float, int]], k: int, title: str, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(5, 3.2), dpi=120)
    axes.plot([p[0] / 60 for p in points], [p[1] for p in points], marker="o")
    axes.set_xlabel("training time (min)")
    axes.set_ylabel(f"test NLL, k={k:,} (nats)")
    axes.set_title(title, fontsize=9)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def render(runs: str, figures: str | None = None, previous: Previous | None = None) -> str:
    """The whole results.md; `previous` supplies rows (and the curve) of runs not here."""
    lines = [
        "# Results",
        "",
        "Generated by `python docs/make_results.py --runs=runs` from each run's",
        "`results.json` (written by `experiments/evaluate.py`); do not edit by hand. Each",
        "row's baseline is measured by the same evaluation, on the same test examples, and",
        "every setting of model and baseline (checkpoint, hyperparameters, a denoiser's",
        "strength, PCA's components) is chosen on a validation split carved from the",
        "training data, never on the test split. Wall times are training time (evaluations",
        "excluded) and evaluation time on the device named in the row; commit is the code",
        "that evaluated it. Published values come from the paper cited in the cell.",
        "",
    ]
    numbered = list(enumerate(EXPERIMENTS, start=1))
    for task in dict.fromkeys(e.task for e in EXPERIMENTS):
        lines += [f"## {task}", ""]
        if task in TASK_NOTES:
            lines += [TASK_NOTES[task], ""]
        lines += _table_header()
        lines += [row(e, runs, i, previous) for i, e in numbered if e.task == task]
        lines.append("")
    for table in SEED_TABLES:
        lines += seed_table(table, runs, previous)
    lines += ["## Commands", ""]
    for i, experiment in numbered:
        lines += [
            f'<a id="command-{i}"></a>{i}. `{experiment.id}`',
            "",
            "   ```bash",
            *[f"   {command}" for command in experiment.commands],
            "   ```",
            "",
        ]
    curves = [line for e in EXPERIMENTS if e.curve for line in nll_curve(e, runs, figures)]
    with_figure = bool(figures)
    if not curves and previous and previous.curve:  # kept, with its plot if that exists
        curves = previous.curve
        with_figure = with_figure and os.path.exists(os.path.join(figures, "nll_vs_time.png"))
    if curves:
        lines += [CURVE_HEADING, "", *curves]
        if with_figure:
            lines += ["![test NLL vs training time](figures/nll_vs_time.png)", ""]
    return "\n".join(lines).rstrip() + "\n"


SEED_COLUMNS = ("model", "seeds")
SEED_TAIL = ("budget", "train time per run (median)", "device", "commit")


def _score(value: float) -> str:
    """A score in a table over seeds: three decimals (counts as integers)."""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.3f}"


def _spread(values: list[float]) -> str:
    """median [min, max] of the values (the value alone for one)."""
    median = statistics.median(values)
    if len(values) == 1:
        return _score(median)
    return f"{_score(median)} [{_score(min(values))}, {_score(max(values))}]"


def seed_table(table: SeedTable, runs: str, previous: Previous | None = None) -> list[str]:
    """The markdown section of `table`: a row per group from the results.json of each of
    its seeds' runs (the row of `previous` when none of them is here)."""
    header = [*SEED_COLUMNS, *(label for _, label in table.metrics), *SEED_TAIL]
    lines = [
        f"## {table.title}",
        "",
        table.note,
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for group in table.groups:
        measured = []
        for run in group.runs():
            results = _read_json(os.path.join(runs, run, "results.json")) or {}
            if all(name in results.get("metrics", {}) for name, _ in table.metrics):
                measured.append(results)
        if not measured and previous is not None and group.name in previous.seed_rows:
            lines.append(previous.seed_rows[group.name])
            continue
        if not measured:
            lines.append(f"| {group.name} | not run yet |" + " |" * (len(header) - 2))
            continue
        seeds = f"{len(measured)} of {len(group.seeds)}"
        cells = [group.name, seeds]
        cells += [_spread([r["metrics"][name] for r in measured]) for name, _ in table.metrics]
        times = [r["train_seconds"] for r in measured if r.get("train_seconds") is not None]
        commits = sorted({(r.get("commit") or "")[:10] for r in measured})
        cells += [
            group.budget,
            _minutes(statistics.median(times)) if times else "",
            ", ".join(sorted({r.get("device", "") for r in measured})),
            ", ".join(commits),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Commands (seed 0, 1, 2 of each row):", "", "```bash"]
    for group in table.groups:
        lines += group.commands()
    return [*lines, "```", ""]


README_START = "<!-- results excerpt: written by docs/make_results.py -->"
README_END = "<!-- end of results excerpt -->"


README_COLUMNS = ("dataset", "model", "metric", "ours", "baseline, same run", "beats it")


def readme_excerpt(runs: str, previous: Previous | None = None) -> str:
    """The measured rows of the experiments marked `readme` (dataset, model, metric,
    ours, the baseline and whether ours beats it)."""
    lines = ["| " + " | ".join(README_COLUMNS) + " |", "|" + "---|" * len(README_COLUMNS)]
    for number, experiment in enumerate(EXPERIMENTS, start=1):
        if not experiment.readme:
            continue
        cells = dict(zip(COLUMNS, _cells(row(experiment, runs, number, previous)), strict=True))
        if cells["ours"] != "not run yet":
            lines.append("| " + " | ".join(cells[c] for c in README_COLUMNS) + " |")
    return "\n".join(lines)


def update_readme(path: str, runs: str, previous: Previous | None = None) -> bool:
    """Rewrites the excerpt between README_START and README_END; False if no markers."""
    with open(path) as f:
        text = f.read()
    if README_START not in text or README_END not in text:
        return False
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    with open(path, "w") as f:
        f.write(f"{head}{README_START}\n{readme_excerpt(runs, previous)}\n{README_END}{tail}")
    return True


def main(argv):
    del argv
    previous = Previous.read(_OUTPUT.value if _KEEP_PREVIOUS.value else None)
    if _README.value and update_readme(_README.value, _RUNS.value, previous):
        print(f"Updated the results excerpt in {_README.value}")
    figures = os.path.join(os.path.dirname(_OUTPUT.value), "figures")
    text = render(_RUNS.value, figures, previous)
    with open(_OUTPUT.value, "w") as f:
        f.write(text)
    print(f"Wrote {_OUTPUT.value}")


if __name__ == "__main__":
    app.run(main)
