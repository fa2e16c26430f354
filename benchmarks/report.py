"""What run.py writes: the commit and machine it measured on, latest.json and latest.md."""

from __future__ import annotations

import json
import os
import pathlib
import platform
import subprocess

REPO = pathlib.Path(__file__).resolve().parent.parent


def commit() -> str:
    """HEAD's hash (+"uncommitted changes" if tracked files differ), or "unknown"."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+uncommitted changes" if dirty else "")


def machine(cpus: list[int] | None) -> dict:
    """The CPU model and count, the pinned CPUs, Python's version, the load average now."""
    model = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "pinned_cpus": cpus,
        "python": platform.python_version(),
        "load_average_at_start": list(os.getloadavg()),
    }


def _fmt(value, spec=".2f") -> str:
    return "" if value is None else format(value, spec)


def markdown(rows: list[dict], header: dict) -> str:
    lines = [
        f"Commit `{header['commit']}`, {header['date']}; {header['machine']['cpu']}, "
        f"{header['machine']['cores']} cores (pinned: {header['machine']['pinned_cpus']}); "
        f"load average at start {header['machine']['load_average_at_start'][0]:.1f}; "
        f"{header['repetitions']} paired repetitions of {header['seconds']:g} s, medians.",
        "",
    ]
    if any(row.get("torch_input") for row in rows):
        lines += [
            "Against PyTorch, the targets hold against its best case, batches precomputed "
            'before timing; the rows "with its input pipeline" time PyTorch sampling, '
            "scaling and binarising each batch in the step. aelab's side always times its "
            "own input pipeline.",
            "",
        ]
    lines += [
        "| row | aelab steps/s | baseline | baseline steps/s | ratio | ratio of CPU time "
        "| target | met | compile s (CPU s) | peak RSS MB | % of matmul peak (CPU time) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        if row.get("compile_s") is not None and row.get("aelab_steps_per_s") is None:
            lines.append(
                f"| compile: {row['name']} | | | | | | {row['target']} "
                f"| {_yes_no(row['target_met'])} "
                f"| {row['compile_s']:.1f} ({row['compile_cpu_s']:.1f}) | | |"
            )
            continue
        if row["name"] == "matmul_peak":
            lines.append(
                f"| float32 matmul 2048^3 (XLA) | {row['gflops_per_s']:.0f} GFLOP/s "
                f"({row['gflops_per_cpu_s']:.0f} per CPU s) | | | | | | | | | |"
            )
            continue
        baseline_sps = row.get("torch_steps_per_s") or row.get("baseline_steps_per_s")
        fraction = row.get("fraction_of_matmul_peak")
        fraction_cpu = row.get("fraction_of_matmul_peak_cpu_time")
        lines.append(
            f"| {row['name']} | {_fmt(row['aelab_steps_per_s'])} | {row['baseline']} "
            f"| {_fmt(baseline_sps)} | {_fmt(row['ratio'])} | {_fmt(row['cpu_time_ratio'])} "
            f"| {row['target'] or ''} "
            f"| {_yes_no(row['target_met'])} | {_fmt(row.get('aelab_compile_s'), '.1f')} "
            f"({_fmt(row.get('aelab_compile_cpu_s'), '.1f')}) "
            f"| {_fmt(row.get('aelab_peak_rss_mb'), '.0f')} "
            f"| {'' if fraction is None else f'{fraction:.0%} ({fraction_cpu:.0%})'} |"
        )
    return "\n".join(lines) + "\n"


def _yes_no(met) -> str:
    return "" if met is None else ("yes" if met else "**no**")


def write(rows: list[dict], header: dict, out: str | os.PathLike) -> str:
    """Records the load average at the end in `header`, stamps every row with the commit,
    machine and date, writes the rows to `out` (JSON) and the table next to it (.md);
    returns the table."""
    header["machine"]["load_average_at_end"] = list(os.getloadavg())
    for row in rows:
        row["commit"] = header["commit"]
        row["machine"] = header["machine"]
        row["date"] = header["date"]
    out = pathlib.Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=2) + "\n")
    table = markdown(rows, header)
    out.with_suffix(".md").write_text(table)
    return table
