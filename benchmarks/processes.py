"""Running `worker.py` in child processes for run.py, and pairing the two sides of a row.

Every measurement gets a fresh process, so no two share threads, caches or a JAX
backend; `paired` alternates the two sides (A B, B A, A B, ...), and `alternating` any
number of them (A B C, C B A, ...), so that a drift in the machine's speed touches all
alike.
"""

from __future__ import annotations

import json
import os
import pathlib
import string
import subprocess
import sys

from worker import RESULT_PREFIX

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent


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
    runs_a, runs_b = alternating([a, b], repetitions, cpus)
    return runs_a, runs_b


def alternating(sides: list[dict], repetitions: int, cpus) -> list[list[dict]]:
    """Runs every side once per repetition, in order on even repetitions and in reverse on
    odd ones (A B C, C B A, ...), so over two repetitions every side has the same mean
    position; `sides` are run_worker kwargs. Returns each side's results, in the order
    of `sides`."""
    runs = [[] for _ in sides]
    for rep in range(repetitions):
        order = list(enumerate(sides))
        for index, spec in order if rep % 2 == 0 else reversed(order):
            result = run_worker(
                spec["args"], env_flags=spec.get("flags", ""), env_vars=spec.get("env"), cpus=cpus
            )
            runs[index].append(result)
            side = string.ascii_lowercase[index]
            print(
                f"  {side}: {' '.join(spec['args'][:2])} {spec.get('label', '')}: "
                f"{result['steps_per_s']:.2f} steps/s, "
                f"{result['steps_per_cpu_s']:.2f} steps per CPU second",
                flush=True,
            )
    return runs
