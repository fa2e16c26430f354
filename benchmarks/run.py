"""aelab against plain PyTorch eager, and aelab against itself: one command, one table.

    python benchmarks/run.py                      # everything, 3 paired repetitions
    python benchmarks/run.py --only=mlp_vae,conv_ae --repetitions=5 --seconds=20
    python benchmarks/run.py --cpus=0             # both sides pinned to CPU 0

Needs the `bench` extra (`pip install -e '.[bench]'`: torch==2.13.0). Every measurement
runs in its own child process (`worker.py`), so no two share threads, caches or a JAX
backend. The two sides of a comparison alternate (A B, B A, A B, ...) and the reported
figures are medians over the repetitions; a ratio is the median of the per-pair ratios,
which stays meaningful when the machine's speed drifts. Rows:

- aelab vs PyTorch eager (same model, Adam, batch 128, same synthetic data): MLP VAE,
  conv AE, residual conv VAE, LSTM AE;
- the same aelab step sharded over 8 fake CPU devices vs 1 device (parameters
  replicated, and split FSDP-style);
- bf16 mixed precision vs float32;
- ablations (what was tried): transposed convs instead of subpixel, one step per call
  instead of 10 or 50, YNNPACK convolutions instead of XLA's own, a 1-device mesh in a
  process with 8 fake devices;
- the first-step compile time of every config under configs/, and the machine's
  float32 matmul peak (the yardstick for the fraction of peak).

Writes benchmarks/results/latest.json (a list of rows, each with the commit and the
machine) and benchmarks/results/latest.md (the table).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(HERE), str(REPO)]

from cases import CASES  # noqa: E402
from worker import RESULT_PREFIX  # noqa: E402

EIGHT_DEVICES = "--xla_force_host_platform_device_count=8"
# XLA's defaults (YNNPACK convolutions) instead of aelab's CPU flags.
WITHOUT_AELAB_FLAGS = {"AELAB_XLA_CPU_FLAGS": "0"}
COMPILE_TARGET_S = 15.0
SHARDED_TARGET = 1.5  # sharded step time / 1-device step time


def _commit() -> str:
    try:
        commit = subprocess.run(
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
    return commit + ("+uncommitted changes" if dirty else "")


def _machine(cpus: list[int] | None) -> dict:
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


def run_worker(
    args: list[str], *, env_flags: str = "", env_vars: dict | None = None, cpus=None, timeout=900
) -> dict:
    """Runs worker.py with `args` in a child process; returns its JSON result. `env_flags`
    are appended to XLA_FLAGS, `env_vars` set in its environment."""
    env = dict(os.environ, **(env_vars or {}))
    env["XLA_FLAGS"] = " ".join(filter(None, [env.get("XLA_FLAGS", ""), env_flags]))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    env.setdefault("JAX_PLATFORMS", "cpu")
    preexec = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
    completed = subprocess.run(
        [sys.executable, str(HERE / "worker.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=preexec,
        check=False,
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if completed.returncode or not lines:
        raise RuntimeError(
            f"worker {' '.join(args)} failed ({completed.returncode}):\n{completed.stderr[-4000:]}"
        )
    return json.loads(lines[-1][len(RESULT_PREFIX) :])


def paired(a: dict, b: dict, repetitions: int, cpus) -> tuple[list[dict], list[dict]]:
    """Runs A and B alternately `repetitions` times each; a/b are run_worker kwargs."""
    runs_a, runs_b = [], []
    for rep in range(repetitions):
        order = [("a", a), ("b", b)] if rep % 2 == 0 else [("b", b), ("a", a)]
        for side, spec in order:
            result = run_worker(
                spec["args"], env_flags=spec.get("flags", ""), env_vars=spec.get("env"), cpus=cpus
            )
            (runs_a if side == "a" else runs_b).append(result)
            print(
                f"  {side}: {' '.join(spec['args'][:2])} {spec.get('label', '')}: "
                f"{result['steps_per_s']:.2f} steps/s, "
                f"{result['steps_per_cpu_s']:.2f} steps per CPU second",
                flush=True,
            )
    return runs_a, runs_b


def _median(runs: list[dict], key: str):
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def _ratio(runs_a, runs_b, key: str = "steps_per_s") -> float:
    return statistics.median(a[key] / b[key] for a, b in zip(runs_a, runs_b, strict=True))


def torch_row(case, runs_a, runs_b, peak_gflops, peak_gflops_cpu) -> dict:
    flops = _median(runs_a, "flops_per_step")
    aelab_sps = _median(runs_a, "steps_per_s")
    ratio = _ratio(runs_a, runs_b)
    fraction = flops * aelab_sps / 1e9 / peak_gflops if flops and peak_gflops else None
    aelab_spc = _median(runs_a, "steps_per_cpu_s")
    fraction_cpu = flops * aelab_spc / 1e9 / peak_gflops_cpu if flops else None
    met = [ratio >= case.target_ratio] if case.target_ratio else []
    if case.target_peak_fraction and fraction is not None:
        met.append(fraction >= case.target_peak_fraction)
    return {
        "name": case.name,
        "description": case.description,
        "baseline": "PyTorch 2.13 eager",
        "aelab_steps_per_s": aelab_sps,
        "torch_steps_per_s": _median(runs_b, "steps_per_s"),
        "ratio": ratio,
        "aelab_steps_per_cpu_s": _median(runs_a, "steps_per_cpu_s"),
        "torch_steps_per_cpu_s": _median(runs_b, "steps_per_cpu_s"),
        "cpu_time_ratio": _ratio(runs_a, runs_b, "steps_per_cpu_s"),
        "target": _target_text(case),
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


def _fmt(value, spec=".2f") -> str:
    return "" if value is None else format(value, spec)


def markdown(rows: list[dict], header: dict) -> str:
    lines = [
        f"Commit `{header['commit']}`, {header['date']}; {header['machine']['cpu']}, "
        f"{header['machine']['cores']} cores (pinned: {header['machine']['pinned_cpus']}); "
        f"load average at start {header['machine']['load_average_at_start'][0]:.1f}; "
        f"{header['repetitions']} paired repetitions of {header['seconds']:g} s, medians.",
        "",
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated row groups: "
        + ", ".join([*CASES, "sharded", "bf16", "ablations", "compile"]),
    )
    parser.add_argument("--cpus", default="", help="pin every worker to these CPUs, e.g. 0")
    parser.add_argument("--ablation", default="", help="run only these comparison rows (names)")
    parser.add_argument("--out", default=str(HERE / "results" / "latest.json"))
    args = parser.parse_args()
    cpus = [int(c) for c in args.cpus.split(",") if c] or None
    groups = set(filter(None, args.only.split(","))) or {
        *CASES,
        "sharded",
        "bf16",
        "ablations",
        "compile",
    }
    header = {
        "commit": _commit(),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": _machine(cpus),
        "repetitions": args.repetitions,
        "seconds": args.seconds,
    }
    seconds = ["--seconds", str(args.seconds)]
    rows = []

    print("matmul peak", flush=True)
    matmuls = [run_worker(["matmul"], cpus=cpus) for _ in range(2)]
    peak = max(m["gflops"] for m in matmuls)
    peak_cpu = max(m["gflops_per_cpu_s"] for m in matmuls)
    rows.append({"name": "matmul_peak", "gflops_per_s": peak, "gflops_per_cpu_s": peak_cpu})

    for name, case in CASES.items():
        if name not in groups:
            continue
        print(f"{name}: aelab vs PyTorch", flush=True)
        runs_a, runs_b = paired(
            {"args": ["aelab", name, *seconds]},
            {"args": ["torch", name, *seconds]},
            args.repetitions,
            cpus,
        )
        rows.append(torch_row(case, runs_a, runs_b, peak, peak_cpu))

    comparisons = []
    if "sharded" in groups:
        # The last variant is what was tried for the MLP VAE's sharded gap: parameters
        # and Adam state split over the 8 devices, so the update is not repeated by each.
        variants = [
            ("mlp_vae", "", "the same step, batch split over 8 fake CPU devices", []),
            ("conv_ae", "", "the same step, batch split over 8 fake CPU devices", []),
            (
                "mlp_vae",
                ", FSDP",
                "as above, with mesh.param_sharding=fsdp",
                ["--set", "mesh.param_sharding=fsdp"],
            ),
        ]
        for name, suffix, description, extra in variants:
            comparisons.append(
                (
                    f"{name} sharded 8 fake devices{suffix}",
                    description,
                    "aelab, 1 device",
                    {"args": ["aelab", name, *seconds, *extra], "flags": EIGHT_DEVICES},
                    {"args": ["aelab", name, *seconds]},
                    f"step time <= {SHARDED_TARGET:g}x 1 device",
                    lambda ratio: 1 / ratio <= SHARDED_TARGET,
                )
            )
    if "bf16" in groups:
        for name in ("mlp_vae", "conv_ae"):
            comparisons.append(
                (
                    f"{name} bf16",
                    "bf16 compute, float32 parameters and optimizer state",
                    "aelab, float32",
                    {"args": ["aelab", name, *seconds, "--set", "train.compute_dtype=bfloat16"]},
                    {"args": ["aelab", name, *seconds]},
                    None,
                    None,
                )
            )
    if "ablations" in groups:
        comparisons += [
            (
                "conv_ae transposed convs",
                "upsample='transpose' (input-dilated convs) instead of 'subpixel'",
                "aelab, subpixel",
                {"args": ["aelab", "conv_ae", *seconds, "--set", "model.upsample=transpose"]},
                {"args": ["aelab", "conv_ae", *seconds]},
                None,
                None,
            ),
            (
                "conv_ae 1 step per call",
                "steps_per_call=1 instead of 10",
                "aelab, 10 steps per call",
                {"args": ["aelab", "conv_ae", *seconds, "--set", "train.steps_per_call=1"]},
                {"args": ["aelab", "conv_ae", *seconds]},
                None,
                None,
            ),
            (
                "conv_ae YNNPACK convs",
                "XLA's default (YNNPACK) convolutions instead of aelab's flag",
                "aelab, with its flag",
                {"args": ["aelab", "conv_ae", *seconds], "env": WITHOUT_AELAB_FLAGS},
                {"args": ["aelab", "conv_ae", *seconds]},
                None,
                None,
            ),
            (
                "residual_vae YNNPACK convs",
                "XLA's default (YNNPACK) convolutions instead of aelab's flag",
                "aelab, with its flag",
                {"args": ["aelab", "residual_vae", *seconds], "env": WITHOUT_AELAB_FLAGS},
                {"args": ["aelab", "residual_vae", *seconds]},
                None,
                None,
            ),
            (
                "conv_ae 1 device of 8 fake",
                "a 1-device mesh in a process started with 8 fake CPU devices (as in tests)",
                "aelab, 1 device",
                {
                    "args": ["aelab", "conv_ae", *seconds, "--num_devices", "1"],
                    "flags": EIGHT_DEVICES,
                },
                {"args": ["aelab", "conv_ae", *seconds]},
                None,
                None,
            ),
            (
                "lstm_ae 1 step per call",
                "steps_per_call=1 instead of 10",
                "aelab, 10 steps per call",
                {"args": ["aelab", "lstm_ae", *seconds, "--set", "train.steps_per_call=1"]},
                {"args": ["aelab", "lstm_ae", *seconds]},
                None,
                None,
            ),
            (
                "mlp_vae 1 step per call",
                "steps_per_call=1 instead of 50",
                "aelab, 50 steps per call",
                {"args": ["aelab", "mlp_vae", *seconds, "--set", "train.steps_per_call=1"]},
                {"args": ["aelab", "mlp_vae", *seconds]},
                None,
                None,
            ),
        ]
    if args.ablation:
        comparisons = [c for c in comparisons if c[0] in args.ablation.split(",")]
    for name, description, baseline, a, b, target, check in comparisons:
        print(f"{name} vs {baseline}", flush=True)
        runs_a, runs_b = paired(a, b, args.repetitions, cpus)
        row = aelab_row(name, description, baseline, runs_a, runs_b, target=target)
        if check is not None:
            row["target_met"] = check(row["ratio"])
        rows.append(row)

    if "compile" in groups:
        print("compile times of configs/", flush=True)
        compiled = run_worker(["compile"], cpus=cpus)
        for config, result in compiled["configs"].items():
            rows.append(
                {
                    "name": config,
                    "compile_s": result["compile_s"],
                    "compile_cpu_s": result["compile_cpu_s"],
                    "steps_per_call": result["steps_per_call"],
                    "target": f"< {COMPILE_TARGET_S:g} s",
                    "target_met": result["compile_s"] < COMPILE_TARGET_S,
                }
            )

    header["machine"]["load_average_at_end"] = list(os.getloadavg())
    for row in rows:
        row["commit"] = header["commit"]
        row["machine"] = header["machine"]
        row["date"] = header["date"]
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=2) + "\n")
    table = markdown(rows, header)
    out.with_suffix(".md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
