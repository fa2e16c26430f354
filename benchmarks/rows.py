"""The rows of run.py's table, from the paired runs of its two sides (medians, ratios)."""

from __future__ import annotations

import statistics

from cases import TARGET_TORCH_INPUT, TORCH_INPUTS

COMPILE_TARGET_S = 15.0


def _median(runs: list[dict], key: str):
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def _ratio(runs_a, runs_b, key: str = "steps_per_s") -> float:
    return statistics.median(a[key] / b[key] for a, b in zip(runs_a, runs_b, strict=True))


def torch_row(case, torch_input, runs_a, runs_b, peak_gflops, peak_gflops_cpu) -> dict:
    """The row of `case`'s aelab runs (A) against PyTorch fed by `torch_input` (B, a key of
    `cases.TORCH_INPUTS`). Only the row of `TARGET_TORCH_INPUT` (PyTorch's best case)
    carries the case's targets; it keeps the case's name, the other rows add their input
    to it."""
    targeted = torch_input == TARGET_TORCH_INPUT
    flops = _median(runs_a, "flops_per_step")
    aelab_sps = _median(runs_a, "steps_per_s")
    ratio = _ratio(runs_a, runs_b)
    fraction = flops * aelab_sps / 1e9 / peak_gflops if flops and peak_gflops else None
    aelab_spc = _median(runs_a, "steps_per_cpu_s")
    fraction_cpu = flops * aelab_spc / 1e9 / peak_gflops_cpu if flops else None
    met = [ratio >= case.target_ratio] if targeted and case.target_ratio else []
    if targeted and case.target_peak_fraction and fraction is not None:
        met.append(fraction >= case.target_peak_fraction)
    return {
        "name": case.name if targeted else f"{case.name}, PyTorch {TORCH_INPUTS[torch_input]}",
        "description": case.description,
        "baseline": f"PyTorch 2.13 eager, {TORCH_INPUTS[torch_input]}",
        "torch_input": torch_input,
        "aelab_steps_per_s": aelab_sps,
        "torch_steps_per_s": _median(runs_b, "steps_per_s"),
        "ratio": ratio,
        "aelab_steps_per_cpu_s": _median(runs_a, "steps_per_cpu_s"),
        "torch_steps_per_cpu_s": _median(runs_b, "steps_per_cpu_s"),
        "cpu_time_ratio": _ratio(runs_a, runs_b, "steps_per_cpu_s"),
        "target": _target_text(case) if targeted else None,
        "target_met": all(met) if met else None,
        "aelab_compile_s": _median(runs_a, "compile_s"),
        "aelab_compile_cpu_s": _median(runs_a, "compile_cpu_s"),
        "torch_first_step_s": _median(runs_b, "first_step_s"),
        "aelab_peak_rss_mb": _median(runs_a, "peak_rss_mb"),
        "torch_peak_rss_mb": _median(runs_b, "peak_rss_mb"),
        "flops_per_step": flops,
        "aelab_gflops_per_s": flops * aelab_sps / 1e9 if flops else None,
        "matmul_peak_gflops_per_s": peak_gflops,
        "fraction_of_matmul_peak": fraction,
        "matmul_peak_gflops_per_cpu_s": peak_gflops_cpu,
        "fraction_of_matmul_peak_cpu_time": fraction_cpu,
        "steps_per_call": runs_a[0]["steps_per_call"],
        "torch_threads": runs_b[0]["threads"],
        "aelab_runs": [r["steps_per_s"] for r in runs_a],
        "torch_runs": [r["steps_per_s"] for r in runs_b],
    }


def _target_text(case) -> str | None:
    parts = []
    if case.target_ratio:
        parts.append(f"ratio >= {case.target_ratio:g}")
    if case.target_peak_fraction:
        parts.append(f">= {case.target_peak_fraction:.0%} of matmul peak")
    return " and ".join(parts) or None


def aelab_row(name, description, baseline, runs_a, runs_b, *, target=None, met=None) -> dict:
    return {
        "name": name,
        "description": description,
        "baseline": baseline,
        "aelab_steps_per_s": _median(runs_a, "steps_per_s"),
        "torch_steps_per_s": None,
        "baseline_steps_per_s": _median(runs_b, "steps_per_s"),
        "ratio": _ratio(runs_a, runs_b),
        "cpu_time_ratio": _ratio(runs_a, runs_b, "steps_per_cpu_s"),
        "target": target,
        "target_met": met,
        "aelab_compile_s": _median(runs_a, "compile_s"),
        "aelab_compile_cpu_s": _median(runs_a, "compile_cpu_s"),
        "aelab_peak_rss_mb": _median(runs_a, "peak_rss_mb"),
        "final_loss": _median(runs_a, "final_loss"),
        "baseline_final_loss": _median(runs_b, "final_loss"),
        "steps_per_call": runs_a[0]["steps_per_call"],
        "aelab_runs": [r["steps_per_s"] for r in runs_a],
        "baseline_runs": [r["steps_per_s"] for r in runs_b],
    }


def compile_row(config: str, result: dict) -> dict:
    """The row of one config's first-step compile time (worker.py's `compile` result)."""
    return {
        "name": config,
        "compile_s": result["compile_s"],
        "compile_cpu_s": result["compile_cpu_s"],
        "steps_per_call": result["steps_per_call"],
        "target": f"< {COMPILE_TARGET_S:g} s",
        "target_met": result["compile_s"] < COMPILE_TARGET_S,
    }
