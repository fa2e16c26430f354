r"""Runs a hyperparameter sweep: `aelab sweep --sweep=FILE --sweep_dir=DIR` (or
`python experiments/sweep.py ...`, the same program).

  # 2 worker processes on this machine, study in DIR/study.db (SQLite)
  python experiments/sweep.py --sweep=configs/sweeps/quickstart.py --sweep_dir=runs/sweep_qs \
      --workers=2
  # rerun the same command to continue an interrupted sweep; regenerate tables and plots:
  python experiments/sweep.py --sweep_dir=runs/sweep_qs --report

Across machines: one shared PostgreSQL database (password in PGPASSWORD or ~/.pgpass):
  host A: python experiments/sweep.py --sweep=... --sweep_dir=/shared/sw \
              --storage=postgresql://aelab@db-host/sweeps --workers=2
  host B: python experiments/sweep.py --sweep=... --sweep_dir=/shared/sw \
              --storage=postgresql://aelab@db-host/sweeps --workers=2 --worker
"""

import sys

from absl import app, flags, logging

from aelab.sweeps import SweepRun, attach_workers, print_report, run_sweep

_SWEEP = flags.DEFINE_string("sweep", None, "Sweep file, path.py or path.py:arg.")
_SWEEP_DIR = flags.DEFINE_string(
    "sweep_dir", None, "Directory of the trials' work directories, results and plots."
)
_WORKERS = flags.DEFINE_integer("workers", 1, "Worker processes to run on this machine.")
_STORAGE = flags.DEFINE_string(
    "storage",
    None,
    "Study storage URL; default sqlite in --sweep_dir. postgresql://user@host[:port]/db "
    "shares the study across machines (give the password via PGPASSWORD or ~/.pgpass).",
)
_STUDY_NAME = flags.DEFINE_string("study_name", None, "Study name; default: the sweep dir's name.")
_WORKER = flags.DEFINE_bool(
    "worker", False, "Only run workers for a study that another machine's sweep.py prepared."
)
_REPORT = flags.DEFINE_bool("report", False, "Only rewrite the results tables and plots.")
_HEARTBEAT = flags.DEFINE_integer(
    "heartbeat_interval", 10, "Seconds between a running trial's heartbeats."
)
_GRACE = flags.DEFINE_integer(
    "grace_period", 60, "Seconds without a heartbeat before a trial is retried elsewhere."
)
flags.mark_flags_as_required(["sweep_dir"])


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    if not _REPORT.value and not _SWEEP.value:
        raise app.UsageError("--sweep is required (except with --report).")
    run = SweepRun(
        sweep_spec=_SWEEP.value or "",
        sweep_dir=_SWEEP_DIR.value,
        storage_url=_STORAGE.value,
        study_name=_STUDY_NAME.value,
        heartbeat_interval=_HEARTBEAT.value,
        grace_period=_GRACE.value,
    )
    if _REPORT.value:
        print_report(run)
    elif _WORKER.value:
        attach_workers(run, num_workers=_WORKERS.value)
    else:
        finished = run_sweep(run, num_workers=_WORKERS.value)
        print_report(run)
        if not finished:
            logging.error("Some trials have not finished; rerun the same command.")
            sys.exit(1)


def run(argv: list[str] | None = None) -> None:
    """Runs the program with the command line `argv` (default: `sys.argv`)."""
    app.run(main, argv=argv)
