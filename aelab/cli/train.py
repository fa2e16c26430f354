r"""Trains a model: `aelab train --config=configs/X.py --workdir=DIR` (or
`python experiments/train.py ...`, the same program).

Override any config field on the command line, e.g. `--config.train.num_steps=5000` or
`--config=configs/quickstart.py:smoke` for a config's smoke variant. A rerun with the same
--workdir resumes from the latest checkpoint there; a larger --config.train.num_steps
extends a finished run. Any other change to the config of a run that has checkpoints
needs --config_mismatch=resume (continue with the new config) or a new --workdir.

A config file is Python code and runs with your permissions: run only configs you trust.

Exit status: 0 when training finished; 1 with a one-line error for a bad config, bad
data, a locked work directory or a config mismatch; 128 + the signal number (143 for
SIGTERM, 130 for Ctrl-C) when stopped by a signal after saving a checkpoint, so that
job scripts can tell "preempted, rerun me" from "done".
"""

import shlex
import sys

from absl import app, flags, logging
from ml_collections import config_flags

from aelab.config import ConfigError, config_argument_problem
from aelab.data import DataError
from aelab.evaluation import train_and_evaluate
from aelab.training import (
    ConfigMismatchError,
    CorruptCheckpointError,
    NonFiniteLossError,
    TrainingPreempted,
    WorkdirLockedError,
)
from aelab.training.saved_config import MISMATCH_MODES

# New attributes are accepted so that the options of a component chosen on the command
# line can be set with it (--config.optimizer.name=adamw --config.optimizer.weight_decay=
# 0.05: the file's config has no weight_decay field); validate_config then rejects any
# field that no chosen component declares, with the valid ones, before anything runs.
_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "Experiment config file.", lock_config=False, accept_new_attributes=True
)
_WORKDIR = flags.DEFINE_string("workdir", None, "Directory for checkpoints, logs and images.")
_CONFIG_MISMATCH = flags.DEFINE_enum(
    "config_mismatch",
    "error",
    MISMATCH_MODES,
    "When the workdir holds checkpoints of a run started with a different config: 'error' "
    "stops and lists the changed fields; 'resume' continues that run with this config.",
)
flags.mark_flags_as_required(["config", "workdir"])

# Errors that are the user's to fix: one clear line, no traceback.
_USER_ERRORS = (
    ConfigError,
    DataError,
    WorkdirLockedError,
    ConfigMismatchError,
    CorruptCheckpointError,
    NonFiniteLossError,
)


def parse_flags(argv: list[str]) -> list[str]:
    """absl's flag parsing, with a bad `--config.<field>=` override as one clear line.

    ml_collections applies overrides while the flags are parsed, so a misspelled field
    would otherwise surface as a KeyError traceback from inside the config library; and
    a missing or broken config file as two chained tracebacks.
    """
    problem = config_argument_problem(argv[1:])
    if problem is not None:
        print(f"FATAL: {problem}", file=sys.stderr)
        sys.exit(1)
    try:
        return app.parse_flags_with_usage(argv)
    except (AttributeError, KeyError, TypeError, ValueError) as e:
        overrides = [a.split("=")[0] for a in argv[1:] if a.startswith("--config.")]
        print(
            f"FATAL: a --config override could not be applied ({e}); check the field names "
            f"and value types of {', '.join(overrides) or 'the overrides'} against the config "
            "file (docs/options.md lists every field; a component's options are in the config "
            "when it is named in base_config(...)).",
            file=sys.stderr,
        )
        sys.exit(1)


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    try:
        train_and_evaluate(_CONFIG.value, _WORKDIR.value, config_mismatch=_CONFIG_MISMATCH.value)
    except TrainingPreempted as stop:
        logging.warning("%s Command: %s", stop, shlex.join([sys.executable, *sys.argv]))
        sys.exit(128 + stop.signal_number)
    except _USER_ERRORS as e:
        logging.error("%s", e)
        sys.exit(1)


def run(argv: list[str] | None = None) -> None:
    """Runs the program with the command line `argv` (default: `sys.argv`)."""
    app.run(main, argv=argv, flags_parser=parse_flags)
