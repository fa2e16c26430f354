"""A fault-injection harness: real training processes killed at random moments.

`KillCampaign` starts `python experiments/train.py ...` on a tiny quickstart config that
checkpoints every few steps, kills it with SIGKILL at a random moment, restarts it in
the same work directory, and repeats; the final parameters and logged metrics are then
compared with those of an uninterrupted run. Kill moments follow three strategies, in
turn:

- "anytime": a uniformly random time within the length of an uninterrupted run (start-up,
  restore, compilation, training, evaluation, checkpointing: wherever it lands);
- "training": once the run has logged a randomly chosen step, after a random delay of
  up to 50 ms;
- "checkpoint write": as soon as orbax's temporary directory of a checkpoint appears
  (a write in progress), after a random delay of up to 10 ms.

After each kill the harness checks that the newest committed checkpoint did not go back
(a checkpoint is never deleted before its successor is committed) and records whether a
checkpoint write was in progress. Run it alone with

  python -m pytest tests/training/test_fault_injection.py -m slow -s

for the long version (AELAB_FAULT_KILLS=20 kills by default; AELAB_FAULT_SEED picks the
random schedule; the summary is printed).
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import random
import signal
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
TMP_MARKER = ".orbax-checkpoint-tmp"
NUM_STEPS = 48
CHECKPOINT_EVERY = 3
CONFIG = "configs/quickstart.py"
# A two-optimizer (adversarial) variant of the same tiny run: a FactorVAE whose
# discriminator has its own optimizer state in the checkpoints.
ADVERSARIAL_CONFIG = "tests/training/adversarial_config.py"
FLAGS = (
    "--config.mesh.num_devices=1",
    "--config.model.hidden_dims=(16,)",
    "--config.model.latent_dim=4",
    "--config.data.batch_size=16",
    "--config.data.eval_batch_size=60",
    "--config.train.eval_examples=120",
    f"--config.train.num_steps={NUM_STEPS}",
    "--config.train.log_every=2",  # log windows straddle checkpoints
    "--config.train.eval_every=6",
    f"--config.train.checkpoint_every={CHECKPOINT_EVERY}",
    "--config.train.keep_checkpoints=1",  # the strictest retention: one checkpoint
    "--config.train.steps_per_call=1",
)
STRATEGIES = ("anytime", "training", "checkpoint write")


def _env(compilation_cache: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    # The processes share JAX's persistent compilation cache: a restart loads the same
    # executables instead of compiling them again (a third of a restart's time here);
    # results are unchanged, the programs are the very same.
    env["JAX_COMPILATION_CACHE_DIR"] = compilation_cache
    env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
    env["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "0"
    return env


class TrainProcess:
    """One `experiments/train.py` process on the harness config (`config`, a file,
    with `FLAGS`), logging to a file; `compilation_cache` is a directory shared by the
    harness's processes."""

    def __init__(self, workdir: str, log_path: str, compilation_cache: str, config: str = CONFIG):
        self.workdir = workdir
        self.log_path = log_path
        self.log = open(log_path, "w")  # Closed in wait().
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "experiments/train.py",
                f"--workdir={workdir}",
                f"--config={config}",
                *FLAGS,
            ],
            cwd=REPO,
            env=_env(compilation_cache),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def running(self) -> bool:
        return self.process.poll() is None

    def wait(self, timeout: float = 900) -> int:
        try:
            code = self.process.wait(timeout)
        finally:
            self.log.close()
        return code

    def output(self) -> str:
        return pathlib.Path(self.log_path).read_text()


def committed_steps(workdir: str) -> list[int]:
    directory = os.path.join(workdir, "checkpoints")
    if not os.path.isdir(directory):
        return []
    return sorted(int(name) for name in os.listdir(directory) if name.isdigit())


def temporary_dirs(workdir: str) -> set[str]:
    """orbax's temporary directories: checkpoint writes in progress, or left by a kill."""
    directory = os.path.join(workdir, "checkpoints")
    if not os.path.isdir(directory):
        return set()
    return {name for name in os.listdir(directory) if TMP_MARKER in name}


def last_logged_step(workdir: str) -> int:
    path = os.path.join(workdir, "metrics.jsonl")
    try:
        lines = pathlib.Path(path).read_text().splitlines()
    except FileNotFoundError:
        return 0
    for line in reversed(lines):
        try:
            return int(json.loads(line)["step"])
        except ValueError:
            continue  # a line being written
    return 0


def run_uninterrupted(
    workdir: str, log_path: str, compilation_cache: str, config: str = CONFIG
) -> float:
    """Runs the harness config to the end; returns its wall time in seconds."""
    process = TrainProcess(workdir, log_path, compilation_cache, config)
    code = process.wait()
    assert code == 0, process.output()[-3000:]
    return time.perf_counter() - process.started


@dataclasses.dataclass
class Kill:
    strategy: str
    seconds_after_start: float
    during_checkpoint_write: bool
    committed_before: int | None
    committed_after: int | None


@dataclasses.dataclass
class KillCampaign:
    """Kills runs until `num_kills` SIGKILLs have landed, `kills_per_run` per work
    directory; each work directory's run is then finished and handed to `check`."""

    root: str
    compilation_cache: str
    reference_seconds: float
    num_kills: int
    kills_per_run: int
    seed: int = 0
    config: str = CONFIG
    kills: list[Kill] = dataclasses.field(default_factory=list)
    runs: int = 0
    processes: int = 0

    def run(self, check) -> None:
        rng = random.Random(self.seed)
        while len(self.kills) < self.num_kills:
            workdir = os.path.join(self.root, f"run{self.runs}")
            killed_here = 0
            while True:
                self.processes += 1
                log = os.path.join(self.root, f"run{self.runs}-attempt{self.processes}.log")
                process = TrainProcess(workdir, log, self.compilation_cache, self.config)
                if killed_here < self.kills_per_run and len(self.kills) < self.num_kills:
                    strategy = STRATEGIES[len(self.kills) % len(STRATEGIES)]
                    try:
                        kill = self._kill_at_random(process, strategy, rng)
                    finally:
                        if process.running():  # The harness failed: leave nothing behind.
                            process.process.kill()
                            process.wait()
                    if kill is not None:
                        self.kills.append(kill)
                        killed_here += 1
                        continue
                code = process.wait()
                assert code == 0, process.output()[-3000:]
                break
            check(workdir)
            self.runs += 1

    def _kill_at_random(self, process: TrainProcess, strategy: str, rng: random.Random):
        """Waits for the strategy's moment and SIGKILLs; None if the run ended first."""
        workdir = process.workdir
        left_over = temporary_dirs(workdir)  # by an earlier kill; this run removes them
        writing = lambda: bool(temporary_dirs(workdir) - left_over)
        if strategy == "training" and last_logged_step(workdir) >= NUM_STEPS - 1:
            strategy = "anytime"  # Nothing left to train: any moment will do.
        if strategy == "anytime":
            deadline = process.started + rng.uniform(0, self.reference_seconds)
            ready = lambda: time.perf_counter() >= deadline
            delay = 0.0
        elif strategy == "training":
            target = rng.randint(last_logged_step(workdir) + 1, NUM_STEPS - 1)
            ready = lambda: last_logged_step(workdir) >= target
            delay = rng.uniform(0, 0.05)
        else:
            ready = writing
            delay = rng.uniform(0, 0.01)
        while not ready():
            if not process.running():
                process.wait()
                return None
            time.sleep(0.002)
        time.sleep(delay)
        steps = committed_steps(workdir)
        mid_write = writing()
        if not process.running():
            process.wait()
            return None
        process.process.send_signal(signal.SIGKILL)
        code = process.wait()
        if code != -signal.SIGKILL:
            return None  # It finished just before the signal.
        after = committed_steps(workdir)
        kill = Kill(
            strategy=strategy,
            seconds_after_start=round(time.perf_counter() - process.started, 2),
            during_checkpoint_write=mid_write or writing(),
            committed_before=max(steps, default=None),
            committed_after=max(after, default=None),
        )
        # Retention deletes an old checkpoint only after its successor is committed.
        if kill.committed_before is not None:
            assert kill.committed_after is not None, (kill, process.output()[-3000:])
            assert kill.committed_after >= kill.committed_before, kill
        return kill

    def summary(self) -> dict:
        return {
            "kills": len(self.kills),
            "during_checkpoint_write": sum(k.during_checkpoint_write for k in self.kills),
            "by_strategy": {s: sum(k.strategy == s for k in self.kills) for s in STRATEGIES},
            "runs_compared": self.runs,
            "processes_started": self.processes,
        }
