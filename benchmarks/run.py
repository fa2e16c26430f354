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
  conv AE, residual conv VAE, LSTM AE; each against PyTorch's best case, batches
  precomputed before timing (the row with the targets), and against PyTorch with its
  input pipeline (each step samples, scales and binarises its batch); the three
  sides alternate (A B C, C B A, ...);
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

The code: flags and the order of rows here; child processes and pairing in
processes.py, the row figures in rows.py, the aelab-vs-aelab comparisons in
comparisons.py, latest.json and latest.md in report.py.
"""

from __future__ import annotations

import argparse
import datetime
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(HERE), str(REPO)]

import report  # noqa: E402
from cases import CASES, TORCH_INPUTS  # noqa: E402
from comparisons import aelab_comparisons  # noqa: E402
from processes import alternating, paired, run_worker  # noqa: E402
from rows import aelab_row, compile_row, torch_row  # noqa: E402


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
        "commit": report.commit(),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": report.machine(cpus),
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
        print(f"{name}: aelab vs PyTorch ({', '.join(TORCH_INPUTS.values())})", flush=True)
        torch_sides = [
            {"args": ["torch", name, *seconds, f"--torch_input={torch_input}"], "label": label}
            for torch_input, label in TORCH_INPUTS.items()
        ]
        runs_a, *torch_runs = alternating(
            [{"args": ["aelab", name, *seconds]}, *torch_sides], args.repetitions, cpus
        )
        for torch_input, runs_b in zip(TORCH_INPUTS, torch_runs, strict=True):
            rows.append(torch_row(case, torch_input, runs_a, runs_b, peak, peak_cpu))

    comparisons = aelab_comparisons(groups, seconds)
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
            rows.append(compile_row(config, result))

    print(report.write(rows, header, args.out))


if __name__ == "__main__":
    main()
