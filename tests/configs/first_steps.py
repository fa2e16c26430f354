"""Records (or recomputes) the first training steps of every config, for the test that
keeps their behaviour unchanged across refactorings (tests/configs/test_first_steps.py).

Each config (its default variant: the real model, data and optimizer) trains
`NUM_STEPS` steps on one device, logging every step; what is recorded is the train loss
of each step and every eval metric at the last step, read back from metrics.jsonl.

    python tests/configs/first_steps.py --write   # rewrites first_steps.json
    python tests/configs/first_steps.py           # prints the differences
    python tests/configs/first_steps.py --only quickstart,images:mnist_conv_ae

Configs are named as `tests.conftest.all_config_names` names them: a file's path under
configs/ without .py, or "<file>:<variant>" for a variant of a file that holds several.

The recorded values are the contract: a refactoring that changes them changed what a
config computes.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys
import tempfile

NUM_STEPS = 3
EVAL_EXAMPLES = 256
GOLDEN = pathlib.Path(__file__).with_name("first_steps.json")
# The train losses of the first steps agree across CPUs to ~2e-6 (an AVX-512 Xeon, the
# AVX2 EPYC, and XLA capped at AVX on the EPYC); the evaluation after them amplifies
# those rounding differences, most in models whose eval mode reads batch-norm statistics
# 3 steps old: images:mnist_resnet_ae's eval loss moved by 1.1e-3 between the Xeon that
# recorded it and an EPYC, 1.6e-3 with XLA capped at AVX. So the train losses are the
# tight check of what a config computes, and the eval metrics a coarser one.
TRAIN_LOSS_TOLERANCE = 1e-5
EVAL_TOLERANCE = 5e-3


def first_steps_config(config):
    """`config` shortened to NUM_STEPS logged steps on one device, evaluated at the end
    on EVAL_EXAMPLES examples (and by the evaluators it schedules in training)."""
    config.mesh.num_devices = 1
    config.train.num_steps = NUM_STEPS
    config.train.log_every = 1
    config.train.eval_every = NUM_STEPS
    config.train.checkpoint_every = NUM_STEPS
    config.train.steps_per_call = 1
    config.train.eval_examples = EVAL_EXAMPLES
    config.train.early_stopping_patience = 0
    for options in config.get("evals", {}).values():  # evaluators scheduled in training
        if options.get("every", 0) > 0:  # run at the last step (they must divide eval_every)
            options.every = NUM_STEPS
    return config


def read_first_steps(workdir: str) -> dict:
    """{"train_loss": [per step], "eval": {metric: value at the last step}}."""
    train_loss, evaluation = [], {}
    with open(os.path.join(workdir, "metrics.jsonl")) as f:
        for line in f:
            record = json.loads(line)
            if "train/loss" in record:
                train_loss.append(record["train/loss"])
            evaluation.update(
                {k.removeprefix("eval/"): v for k, v in record.items() if k.startswith("eval/")}
            )
    return {"train_loss": train_loss, "eval": evaluation}


def run_first_steps(name: str, train) -> dict:
    """Trains config `name` (as `all_config_names` names it) with `train(config,
    workdir)`; returns what `read_first_steps` reads."""
    from tests.conftest import load_config

    config = first_steps_config(load_config(name))
    with tempfile.TemporaryDirectory() as workdir:
        train(config, workdir)
        return read_first_steps(workdir)


def differences(measured: dict, recorded: dict) -> list[str]:
    """What differs between two `read_first_steps` results beyond the tolerances above:
    one line per difference, [] when they agree."""

    def close(a, b, rel):
        return abs(a - b) <= max(rel * abs(b), 1e-6)

    found = []
    train, train_recorded = measured["train_loss"], recorded["train_loss"]
    if len(train) != len(train_recorded) or not all(
        close(a, b, TRAIN_LOSS_TOLERANCE) for a, b in zip(train, train_recorded, strict=False)
    ):
        found.append(f"train_loss {train} vs recorded {train_recorded}")
    if sorted(measured["eval"]) != sorted(recorded["eval"]):
        found.append(f"eval metrics {sorted(measured['eval'])} vs {sorted(recorded['eval'])}")
    else:
        for metric, value in recorded["eval"].items():
            if not close(measured["eval"][metric], value, EVAL_TOLERANCE):
                found.append(f"eval {metric} {measured['eval'][metric]} vs recorded {value}")
    return found


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
    from aelab.evaluation import train_and_evaluate
    from tests.conftest import all_config_names  # sets up devices and the TFDS dir

    names = argv[argv.index("--only") + 1].split(",") if "--only" in argv else all_config_names()
    results = {name: run_first_steps(name, train_and_evaluate) for name in names}
    if "--write" in argv:  # with --only, the other configs' records are kept
        recorded = json.loads(GOLDEN.read_text()) if "--only" in argv else {}
        results = {**recorded, **results}
        GOLDEN.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
        print(f"wrote {GOLDEN} ({len(results)} configs)")
        return 0
    golden = json.loads(GOLDEN.read_text())
    for name, values in results.items():
        if name not in golden:
            print(name, "NOT RECORDED")
        elif values == golden[name]:
            print(name, "same")
        elif found := differences(values, golden[name]):
            print(name, "DIFFERS:", "; ".join(found))
        else:
            print(name, "within the tolerances")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
