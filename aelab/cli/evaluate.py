r"""Evaluates a trained run: `aelab evaluate --workdir=DIR` (or
`python experiments/evaluate.py ...`, the same program).

Loads the best checkpoint of the run in DIR (or --step=N, latest, all), runs the
evaluators listed in its config (`config.evals`; --evals=a,b instead), and writes
DIR/results.json and plots under DIR/evaluation/. Evaluator options can be changed with
--option, e.g.

  python experiments/evaluate.py --workdir=runs/mnist_vae --evals=likelihood \
      --option=likelihood.num_samples=1000 --option=likelihood.max_examples=2000

--split=validation evaluates on the run's validation split instead (every label; what
settings are chosen on) and writes DIR/results_validation.json.
"""

import ast
import sys

from absl import app, flags, logging

from aelab.data import DataError
from aelab.evaluation import evaluate_run

_WORKDIR = flags.DEFINE_string("workdir", None, "Work directory of a trained run.")
_STEP = flags.DEFINE_string(
    "step", "best", "Checkpoint to evaluate: best, latest, all, or a step number."
)
_EVALS = flags.DEFINE_list(
    "evals", None, "Evaluators to run (default: the run's config.evals), e.g. likelihood,pca."
)
_OPTIONS = flags.DEFINE_multi_string(
    "option", [], "Evaluator option as <evaluator>.<option>=<value> (a Python literal)."
)
_SPLIT = flags.DEFINE_enum(
    "split",
    "eval",
    ["eval", "validation"],
    "eval: config.data.eval_split (the reported results, results.json); validation: the "
    "run's validation split, to choose settings on (results_validation.json).",
)
flags.mark_flags_as_required(["workdir"])


def _parse_option(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep:
        raise app.UsageError(f"--option={text!r}: write <evaluator>.<option>=<value>.")
    try:
        return key.strip(), ast.literal_eval(value.strip())
    except (ValueError, SyntaxError):
        return key.strip(), value.strip()  # a bare word: a string


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    step = _STEP.value
    try:
        evaluate_run(
            _WORKDIR.value,
            step=int(step) if step.isdigit() else step,
            evals=_EVALS.value,
            overrides=dict(_parse_option(o) for o in _OPTIONS.value),
            command=" ".join(["python", *sys.argv]),
            split=_SPLIT.value,
        )
    except (FileNotFoundError, ValueError, DataError) as e:
        # A missing or wrong work directory, step, evaluator or option: the message says
        # what to change; a traceback would only hide it.
        logging.error("%s", e)
        sys.exit(1)


def run(argv: list[str] | None = None) -> None:
    """Runs the program with the command line `argv` (default: `sys.argv`)."""
    app.run(main, argv=argv)
