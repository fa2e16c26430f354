r"""aelab on a GPU (or TPU): one prepared command, about 8 minutes on one device.

    pip install -e '.[cuda12]'
    python benchmarks/accelerator_check.py                 # on the accelerator
    python benchmarks/accelerator_check.py --smoke --out=/tmp/check   # tiny, on the CPU
    python benchmarks/accelerator_check.py --parts=throughput,likelihood --part_seconds=300

Writes benchmarks/results/accelerator_<device>.json (device: a slug of JAX's
`device_kind`, e.g. accelerator_nvidia_h200.json; accelerator_cpu.json for --smoke) and
the table of measured figures against the goals next to it (.md). Without --smoke it
exits 2 at once when JAX sees no GPU or TPU. Every part runs under its own time cap
(DEFAULT_CAPS seconds, or --part_seconds for all); a part that fails or runs out of
time is recorded with its error (one line) and the others still run.

Parts (their code is in accelerator_parts.py):
1. tests: the device-relevant tests (sharding, train step, bf16, device batches,
   checkpoint contents and restore, resume, populations) by pytest in a child process
   with JAX_PLATFORMS set to the device's platform: passed / failed / skipped, seconds.
2. throughput: the largest config of each family (MLP, conv, residual, ViT, LSTM) in
   float32 and bfloat16 (`config.train.compute_dtype`), at least 10 fused steps per
   call (`config.train.steps_per_call`), synthetic inputs on the device: compile
   seconds, steps/s, examples/s, MFU (FLOPs of one step from XLA's cost analysis x
   steps/s / the device's dense peak for that dtype, accelerator_parts.PEAK_FLOPS; the
   float32 peak is the plain FP32 rate, not TF32; unknown devices: MFU null).
3. population: 16 MLP VAEs and 16 conv VAEs as one vmapped population against the same
   16 run one after another (benchmarks/population_sweep.py), member-steps/s.
4. likelihood: the importance-sampled NLL, k = 5,000, of the IWAE paper's MLP VAE on
   the 10,000 MNIST test images (random binary images without $AELAB_DATA_DIR),
   seconds including compilation (benchmarks/importance_sampled_nll.py's set-up).
5. iwae_protocol: the IWAE paper's full protocol (configs/iwae_table1/mlp_1layer.py,
   budget=full: batch 20, 100 fused steps) timed for 8 s for each Table 1 row (VAE and
   IWAE, k = 1, 5, 50): steps/s, the projected time of its 3,280 epochs (9.84M steps),
   and the population size that fits all six rows in one GPU-hour given part 3's
   measured speed-up (accelerator_parts.TABLE1_ASSUMPTION states the model).

Goals (the .md table shows measured against each): population >= 4x the throughput of
sequential runs; conv VAE >= 40% MFU in bf16; IS-NLL k=5,000 <= 10 s; compile < 15 s
for every throughput case; every device test passes.

--smoke runs every part tiny on the CPU (one test, batch 4, a population of 2, k=10 on
20 examples, 0.2 s per timing) in under a minute, so CI catches a broken script before
a GPU run does.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import math
import os
import pathlib
import re
import signal
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import accelerator_parts as parts  # noqa: E402
import jax  # noqa: E402
import report  # noqa: E402
from absl import app, flags  # noqa: E402
from rows import COMPILE_TARGET_S  # noqa: E402

NO_ACCELERATOR = (
    "no GPU visible to JAX: install with pip install -e '.[cuda12]' and check nvidia-smi; "
    "or run --smoke on the CPU"
)
ACCELERATORS = {"gpu": "cuda", "cuda": "cuda", "rocm": "rocm", "tpu": "tpu"}
# Seconds each part may take on the accelerator (about 8 minutes in all).
DEFAULT_CAPS = {
    "tests": 120,
    "throughput": 180,
    "population": 90,
    "likelihood": 60,
    "iwae_protocol": 90,
}
# Generous: a smoke run takes 20-50 s in all on a 2-core CPU; the caps only stop a hang.
SMOKE_CAPS = dict.fromkeys(DEFAULT_CAPS, 60)
SMOKE_XLA_FLAGS = ("--xla_backend_optimization_level=0", "--xla_llvm_disable_expensive_passes=true")
POPULATION_GOAL = 4.0
MFU_GOAL = 0.40
NLL_GOAL_S = 10.0

_SMOKE = flags.DEFINE_boolean("smoke", False, "Every part tiny, on the CPU.")
# population_sweep.py (imported through accelerator_parts) defines an --out of its own.
_OUT = flags.DEFINE_string(
    "out", str(HERE / "results"), "Directory of the JSON and .md.", allow_override=True
)
_PART_SECONDS = flags.DEFINE_float(
    "part_seconds", None, "Time cap of every part (default: DEFAULT_CAPS per part)."
)
_PARTS = flags.DEFINE_list("parts", list(DEFAULT_CAPS), "Parts to run.")


class PartTimeout(Exception):
    pass


@contextlib.contextmanager
def time_cap(seconds: float):
    """Raises PartTimeout in the main thread after `seconds` (when Python next runs)."""

    def expire(signum, frame):
        raise PartTimeout(f"the part's time cap of {seconds:.0f} s was reached")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def device_slug(kind: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", kind.lower()).strip("_") or "unknown"


def run_part(name, settings, cap, platform, peak) -> dict:
    """One part's result; its cases stop starting after 80% of `cap`."""
    deadline = time.monotonic() + 0.8 * cap
    if name == "tests":
        return parts.run_tests(settings, platform, 0.95 * cap)
    if name == "throughput":
        return parts.run_throughput(settings, deadline, peak)
    if name == "population":
        return parts.run_populations(settings, deadline)
    if name == "likelihood":
        return parts.run_likelihood(settings, deadline)
    return parts.run_iwae_protocol(settings, deadline)


def run_parts(names, caps, settings, platform, peak) -> dict:
    """Each part under its cap: its result, or its error, with its seconds."""
    results = {}
    for name in names:
        print(f"{name} (cap {caps[name]:.0f} s)", flush=True)
        start = time.perf_counter()
        try:
            with time_cap(caps[name]):
                result = run_part(name, settings, caps[name], platform, peak)
            results[name] = {"status": "ok", "error": None, **result}
        except Exception as error:  # recorded; the other parts still run
            results[name] = {"status": "failed", "error": parts.first_line(error)}
        results[name]["part_seconds"] = time.perf_counter() - start
        results[name]["cap_seconds"] = caps[name]
        error = results[name]["error"]
        print(
            f"  {results[name]['status']} in {results[name]['part_seconds']:.1f} s"
            + (f": {error}" if error else ""),
            flush=True,
        )
    return results


def _case(results, part, key) -> dict:
    return results.get(part, {}).get("cases", {}).get(key, {})


def goals(results: dict) -> list[dict]:
    """Each goal: what was measured, the target, whether it is met (None: not measured)."""
    rows = []

    def add(goal, measured, target, met, unit=""):
        rows.append(
            {
                "goal": goal,
                "measured": measured,
                "target": target,
                "unit": unit,
                "met": None if measured is None else met,
            }
        )

    for key in ("mlp_vae", "conv_vae"):
        gain = _case(results, "population", key).get("vmap_speedup")
        add(
            f"population {key}: vmap / sequential throughput",
            gain,
            f">= {POPULATION_GOAL:g}x",
            gain is not None and gain >= POPULATION_GOAL,
            "x",
        )
    mfu = _case(results, "throughput", "conv_bfloat16").get("mfu")
    add("conv VAE MFU in bf16", mfu, f">= {MFU_GOAL:.0%}", mfu is not None and mfu >= MFU_GOAL, "%")
    nll = results.get("likelihood", {})
    seconds = nll.get("seconds")
    add(
        f"IS-NLL k={nll.get('num_samples')} on {nll.get('num_examples')} images",
        seconds,
        f"<= {NLL_GOAL_S:g} s",
        seconds is not None and seconds <= NLL_GOAL_S,
        "s",
    )
    for key, case in results.get("throughput", {}).get("cases", {}).items():
        compile_s = case.get("compile_s")
        add(
            f"compile {key}",
            compile_s,
            f"< {COMPILE_TARGET_S:g} s",
            compile_s is not None and compile_s < COMPILE_TARGET_S,
            "s",
        )
    tests = results.get("tests", {})
    failed, finished = tests.get("failed"), not tests.get("timed_out")
    met = failed == 0 and finished
    add(f"device tests ({tests.get('platform')})", failed, "0 failed", met, " failed")
    return rows


def _fmt(value, unit="") -> str:
    if value is None:
        return ""
    if unit == "%":
        return f"{value:.1%}"
    return f"{value:.3g}{unit}" if isinstance(value, float) else f"{value}{unit}"


def markdown(check: dict) -> str:
    device = check["device"]
    lines = [
        f"# accelerator check: {device['kind']} ({device['platform']}, {device['count']} "
        f"devices){' — smoke' if check['smoke'] else ''}",
        "",
        f"Commit `{check['commit']}`, {check['date']}, jax {check['jax_version']}, "
        f"{check['seconds']:.0f} s. Command: `{check['command']}`",
        "",
        "| goal | measured | target | met |",
        "|---|---|---|---|",
    ]
    for row in check["goals"]:
        met = "" if row["met"] is None else ("yes" if row["met"] else "**no**")
        lines.append(
            f"| {row['goal']} | {_fmt(row['measured'], row['unit'])} | {row['target']} | {met} |"
        )
    lines += [
        "",
        "| throughput case | compile s | steps/s | examples/s | MFU | error |",
        "|---|---|---|---|---|---|",
    ]
    for key, case in check["parts"].get("throughput", {}).get("cases", {}).items():
        lines.append(
            f"| {key} ({case['config']}) | {_fmt(case.get('compile_s'), ' s')} "
            f"| {_fmt(case.get('steps_per_s'), '')} | {_fmt(case.get('examples_per_s'), '')} "
            f"| {_fmt(case.get('mfu'), '%')} | {case.get('error') or ''} |"
        )
    lines += ["", "| part | status | seconds (cap) | error |", "|---|---|---|---|"]
    for name, part in check["parts"].items():
        lines.append(
            f"| {name} | {part['status']} | {part['part_seconds']:.0f} "
            f"({part['cap_seconds']:.0f}) | {part['error'] or ''} |"
        )
    iwae = check["parts"].get("iwae_protocol", {})
    lines += [
        "",
        "| IWAE protocol row (budget=full) | steps/s | compile s | projected hours | error |",
        "|---|---|---|---|---|",
    ]
    for key, row in iwae.get("rows", {}).items():
        lines.append(
            f"| {key} | {_fmt(row.get('steps_per_s'))} | {_fmt(row.get('compile_s'))} "
            f"| {_fmt(row.get('projected_hours'))} | {row.get('error') or ''} |"
        )
    fit = iwae.get("table1_fit")
    if fit:
        lines += [
            "",
            f"Table 1 in {fit.get('max_hours', 1):g} GPU-hour: population size "
            f"{fit['population_size']} ({fit.get('error') or fit['assumption']})",
        ]
    return "\n".join(lines) + "\n"


def _finite(tree):
    """`tree` with NaN and infinities as None (JSON has no NaN)."""
    if isinstance(tree, dict):
        return {str(k): _finite(v) for k, v in tree.items()}
    if isinstance(tree, list | tuple):
        return [_finite(v) for v in tree]
    return None if isinstance(tree, float) and not math.isfinite(tree) else tree


def main(argv):
    del argv
    if _SMOKE.value:
        # On the CPU, compiling fast rather than well: smoke figures only show that every
        # part runs. (Both take effect only before JAX starts a backend, as here.)
        jax.config.update("jax_platforms", "cpu")
        os.environ["XLA_FLAGS"] = " ".join([os.environ.get("XLA_FLAGS", ""), *SMOKE_XLA_FLAGS])
    device = jax.devices()[0]
    if not _SMOKE.value and device.platform not in ACCELERATORS:
        print(NO_ACCELERATOR, file=sys.stderr, flush=True)
        sys.exit(2)
    started = time.perf_counter()
    settings = parts.SMOKE if _SMOKE.value else parts.GPU
    caps = SMOKE_CAPS if _SMOKE.value else DEFAULT_CAPS
    if _PART_SECONDS.value:
        caps = dict.fromkeys(caps, _PART_SECONDS.value)
    unknown = sorted(set(_PARTS.value) - set(caps))
    if unknown:
        raise app.UsageError(f"--parts: unknown {unknown}; the parts are {', '.join(caps)}.")
    platform = ACCELERATORS.get(device.platform, device.platform)
    peak = parts.peak_flops(device.device_kind)
    results = run_parts([p for p in caps if p in _PARTS.value], caps, settings, platform, peak)
    iwae = results.get("iwae_protocol", {})
    if iwae.get("status") == "ok":
        iwae["table1_fit"] = parts.table1_fit(iwae["rows"], _case(results, "population", "mlp_vae"))
    check = {
        "benchmark": "accelerator_check",
        "command": " ".join(["python", "benchmarks/accelerator_check.py", *sys.argv[1:]]),
        "smoke": _SMOKE.value,
        "commit": report.commit(),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "jax_version": jax.__version__,
        "device": {
            "platform": device.platform,
            "kind": device.device_kind,
            "count": jax.device_count(),
        },
        "peak_flops": peak,
        "peak_note": "dense peak by compute dtype; float32 is the plain FP32 rate (TF32 "
        "not used as the yardstick); MFU null on devices not in PEAK_FLOPS",
        "default_matmul_precision": jax.config.jax_default_matmul_precision,
        "parts": results,
        "goals": goals(results),
        "seconds": time.perf_counter() - started,
    }
    out = pathlib.Path(_OUT.value) / f"accelerator_{device_slug(device.device_kind)}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    check = _finite(check)
    out.write_text(json.dumps(check, indent=2) + "\n")
    table = markdown(check)
    out.with_suffix(".md").write_text(table)
    print(table)
    print(f"Wrote {out} and {out.with_suffix('.md').name}")


if __name__ == "__main__":
    app.run(main)
