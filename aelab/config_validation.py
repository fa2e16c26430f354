"""Checks a whole config before anything is compiled: `validate_config(config)`.

A mistake in a config should cost seconds, not a compile, a data download or an hour of
training that ends in a traceback from deep inside JAX. `validate_config` checks, in
this order, and reports every problem it finds at once as one `ConfigError` (a
`ValueError`) whose lines each name the field, its value and what is valid:

1. Fields: every field of the sections that `aelab.defaults.base_config()` defines
   (top level, data, train, mesh, distributed) is known there (else "did you mean ..."),
   has the default's type, and lies in its range; names are registered (data sets,
   models, objectives, likelihoods, optimizers, schedules).
2. Devices: `mesh.num_devices` exists, and the train and eval batch sizes divide among
   the devices.
3. Data: the data set's shapes and splits (from its metadata, no data is read): the
   batch fits the train split, labels exist.
4. Model, objective and optimizer together, traced abstractly (`jax.eval_shape`: shapes
   only, no compile, no memory): the model builds for the data's example shape (a conv
   model on a 1-D series fails here), decodes to the shape the likelihood expects, the
   objective accepts it, the optimizer and its schedule build. Fields of `config.model`,
   `config.objective` and `config.optimizer` beyond the base ones depend on the model,
   objective or optimizer, so they are free-form; the trace records which fields the
   builders read. A field that nothing reads and that looks like a misspelling of one
   they read is an error; any other unread field is reported as a warning (it has no
   effect: e.g. `channels` while training a dense model in a sweep over both).

Also usable alone (sweeps, evaluation): `validate_config(config, num_devices=1)`.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import numbers
import re
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
from absl import logging
from flax import nnx

from aelab.defaults import base_config

# Sections whose every field is declared in base_config(); the others (model, objective,
# optimizer) also take fields that their builders read.
STRICT_SECTIONS = ("data", "train", "mesh", "distributed")
FREE_FORM_SECTIONS = ("model", "objective", "optimizer")


class ConfigError(ValueError):
    """A config field is unknown, mistyped, out of range or inconsistent with the others.

    Attributes:
      problems: one line per problem, each naming the field (`config.<section>.<field>`).
    """

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        if len(self.problems) == 1:
            super().__init__(self.problems[0])
        else:
            lines = "\n  ".join(self.problems)
            super().__init__(f"Invalid config ({len(self.problems)} problems):\n  {lines}")


# ---------------------------------------------------------------------------- rules
# A rule returns None for a valid value, else why it is not ("must be an integer >= 1").
Rule = Callable[[Any], str | None]


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def integer(minimum: int | None = None, maximum: int | None = None) -> Rule:
    """An int (not a bool) within the bounds."""
    bounds = [f">= {minimum}"] if minimum is not None else []
    bounds += [f"<= {maximum}"] if maximum is not None else []
    expected = " ".join(["must be an integer", " and ".join(bounds)]).strip()

    def rule(value):
        if not _is_int(value):
            return expected
        too_small = minimum is not None and value < minimum
        too_large = maximum is not None and value > maximum
        return expected if too_small or too_large else None

    return rule


def number(
    minimum: float | None = None, *, exclusive: bool = False, below: float | None = None
) -> Rule:
    """A finite int or float (not a bool), >= `minimum` (> if `exclusive`), < `below`."""
    bounds = [f"{'>' if exclusive else '>='} {minimum:g}"] if minimum is not None else []
    bounds += [f"< {below:g}"] if below is not None else []
    expected = " ".join(["must be a finite number", " and ".join(bounds)]).strip()

    def rule(value):
        if not _is_number(value) or not math.isfinite(float(value)):
            return expected
        too_small = minimum is not None and (value <= minimum if exclusive else value < minimum)
        too_large = below is not None and value >= below
        return expected if too_small or too_large else None

    return rule


def boolean() -> Rule:
    """True or False."""
    return lambda value: None if isinstance(value, bool) else "must be True or False"


def string(pattern: str | None = None, description: str = "must be a non-empty string") -> Rule:
    """A non-empty str, matching `pattern` in full if given."""

    def rule(value):
        if not isinstance(value, str) or not value:
            return description
        if pattern is not None and not re.fullmatch(pattern, value):
            return description
        return None

    return rule


def choice(
    choices: Callable[[], Sequence[str]] | Sequence[str], *, kind: str = "", prefix: str = ""
) -> Rule:
    """One of `choices` (a list, or a function giving a registry's names, `kind` naming
    what they are); with `prefix`, also any `<prefix><name>`."""

    def rule(value):
        valid = list(choices() if callable(choices) else choices)
        if isinstance(value, str):
            if value in valid or (prefix and value.startswith(prefix) and value != prefix):
                return None
        close = difflib.get_close_matches(str(value), valid, n=1, cutoff=0.6)
        unknown = f"Unknown {kind} {value!r}; " if kind else ""
        hint = f"did you mean {close[0]!r}? " if close else ""
        names = f"Valid {kind} names" if kind else "Valid choices"
        extra = f", or '{prefix}<name>'" if prefix else ""
        return f"{unknown}{hint}{names}: {', '.join(valid)}{extra}"

    return rule


def sequence_of(item: Rule, description: str, *, allow_empty: bool = False) -> Rule:
    """A tuple or list whose items pass `item`."""

    def rule(value):
        if isinstance(value, str) or not isinstance(value, Sequence):
            return description
        if not value and not allow_empty:
            return description
        return description if any(item(v) for v in value) else None

    return rule


def optional(rule: Rule) -> Rule:
    """None, or what `rule` accepts."""

    def optional_rule(value):
        if value is None:
            return None
        problem = rule(value)
        if problem is None:
            return None
        return problem.replace("must be ", "must be None or ", 1)

    return optional_rule


def _registry_names(module: str, function: str) -> Callable[[], list[str]]:
    def names() -> list[str]:
        import importlib

        return list(getattr(importlib.import_module(module), function)())

    return names


def _likelihood_names() -> list[str]:
    from aelab.objectives import LIKELIHOODS

    return LIKELIHOODS.names()


def _schedule_names() -> list[str]:
    from aelab.training.schedules import SCHEDULES

    return SCHEDULES.names()


def _binarize_modes() -> list[str]:
    from aelab.data.transforms import BINARIZE_MODES

    return list(BINARIZE_MODES)


def _initialize_modes() -> list[str]:
    from aelab.training.distributed import INITIALIZE_MODES

    return list(INITIALIZE_MODES)


def _nonfinite_policies() -> list[str]:
    from aelab.training.nonfinite import NONFINITE_POLICIES

    return list(NONFINITE_POLICIES)


_LABELS = optional(sequence_of(integer(0), "must be a non-empty tuple of class indices >= 0"))

FIELD_RULES: dict[str, Rule] = {
    "seed": integer(0, 2**63 - 1),
    "data.name": choice(
        _registry_names("aelab.data", "list_datasets"), kind="data set", prefix="tfds:"
    ),
    "data.data_dir": optional(string()),
    "data.tfds_data_dir": optional(string()),
    "data.path": optional(string()),
    "data.input_key": choice(("image", "series", "inputs")),
    "data.in_memory": boolean(),
    "data.train_split": string(),
    "data.eval_split": string(),
    "data.batch_size": integer(1),
    "data.eval_batch_size": optional(integer(1)),
    "data.scale": boolean(),
    "data.binarize": choice(_binarize_modes),
    "data.flatten": boolean(),
    "data.train_labels": _LABELS,
    "data.eval_labels": _LABELS,
    "data.seed": optional(integer(0, 2**63 - 1)),
    "model.name": choice(_registry_names("aelab.models", "list_models"), kind="model"),
    "model.latent_dim": integer(1),
    "objective.name": choice(
        _registry_names("aelab.objectives", "list_objectives"), kind="objective"
    ),
    "objective.likelihood": choice(_likelihood_names, kind="likelihood"),
    "objective.beta": number(0.0),
    "objective.l1_weight": number(0.0),
    "objective.l2_weight": number(0.0),
    "optimizer.name": choice(
        _registry_names("aelab.training.optimizers", "list_optimizers"), kind="optimizer"
    ),
    "optimizer.learning_rate": number(0.0, exclusive=True),
    "optimizer.schedule": choice(_schedule_names, kind="learning-rate schedule"),
    "optimizer.warmup_steps": integer(0),
    "optimizer.grad_clip_norm": optional(number(0.0, exclusive=True)),
    "train.num_steps": integer(1),
    "train.log_every": integer(0),
    "train.eval_every": integer(0),
    "train.checkpoint_every": integer(0),
    "train.keep_checkpoints": integer(1),
    "train.steps_per_call": integer(1),
    "train.eval_examples": optional(integer(1)),
    "train.best_metric": string(r"eval/\S+", "must be an evaluation metric such as 'eval/loss'"),
    "train.best_mode": choice(("min", "max")),
    "train.early_stopping_patience": integer(0),
    "train.early_stopping_min_delta": number(0.0),
    "train.nonfinite": choice(_nonfinite_policies),
    "train.nonfinite_patience": integer(0),
    "mesh.num_devices": optional(integer(1)),
    "distributed.initialize": choice(_initialize_modes),
    "distributed.coordinator_address": optional(
        string(r"[^:\s]+:\d+", "must be a 'host:port' string")
    ),
    "distributed.num_processes": optional(integer(1)),
    "distributed.process_id": optional(integer(0)),
}

# Free-form model fields, checked by their names' endings: sizes are positive, counts
# are not negative, rates lie in [0, 1). Tuples of sizes may be empty (no hidden layer).
_SIZE_FIELD = re.compile(r"(.*_)?(dim|dims|channels|features|size|sizes|heads)")
_COUNT_FIELD = re.compile(r"num_.*|(.*_)?(layers|blocks|steps)")
_RATE_FIELD = re.compile(r".*_rate")


def _int_or_ints(minimum: int) -> Rule:
    single = integer(minimum)
    many = sequence_of(
        single, f"must be an integer >= {minimum} or a tuple of them", allow_empty=True
    )
    return lambda value: None if single(value) is None else many(value)


def _free_form_rule(name: str) -> Rule | None:
    if _SIZE_FIELD.fullmatch(name):
        return _int_or_ints(1)
    if _COUNT_FIELD.fullmatch(name):
        return _int_or_ints(0)
    if _RATE_FIELD.fullmatch(name):
        return number(0.0, below=1.0)
    return None


def _type_rule(default: Any, field_type: type | None) -> Rule | None:
    """A rule from a base field's default (or a placeholder's declared type)."""
    kind = field_type if default is None else type(default)
    rule = {bool: boolean(), int: integer(), float: number(), str: string()}.get(kind)
    if rule is None and kind in (tuple, list):
        rule = lambda v: None if isinstance(v, (tuple, list)) else "must be a tuple"
    if rule is None:
        return None
    return optional(rule) if default is None else rule


# -------------------------------------------------------------------- field checks


@dataclasses.dataclass
class _Checker:
    problems: list[str] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)

    def add(self, path: str, value: Any, why: str) -> None:
        self.problems.append(f"config.{path}={value!r} is not valid: {why}.")


def _declared_fields(section: ml_collections.ConfigDict) -> dict[str, tuple[Any, type | None]]:
    """{field: (default, placeholder type)} of one base_config() section."""
    fields = {}
    for key in section.keys():
        reference = section._fields[key]  # Placeholders keep their type here.
        field_type = (
            reference.get_type() if isinstance(reference, ml_collections.FieldReference) else None
        )
        fields[key] = (section[key], field_type)
    return fields


def _unknown_field(checker: _Checker, path: str, known: Sequence[str]) -> None:
    name = path.rsplit(".", 1)[-1]
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.7)
    hint = f"did you mean {close[0]!r}? " if close else ""
    checker.problems.append(
        f"config.{path} is not a known field: {hint}known fields here: {', '.join(sorted(known))}."
    )


def _check_fields(config, checker: _Checker) -> None:
    base = base_config()
    top_known = list(base.keys())
    for key in config.keys():
        if key not in base:
            _unknown_field(checker, key, top_known)
    for key in top_known:
        if key not in config:
            checker.problems.append(
                f"config.{key} is missing: start the config from aelab.defaults.base_config()."
            )
    for key, (default, field_type) in _declared_fields(base).items():
        if isinstance(default, ml_collections.ConfigDict) or key not in config:
            continue
        _check_value(checker, key, config[key], default, field_type)
    for section_name in (*STRICT_SECTIONS, *FREE_FORM_SECTIONS):
        if section_name not in config:
            continue
        section = config[section_name]
        if not isinstance(section, (ml_collections.ConfigDict, dict)):
            checker.add(section_name, section, "must be a ConfigDict of fields")
            continue
        declared = _declared_fields(base[section_name])
        for key in sorted(declared.keys() - set(section.keys())):
            checker.problems.append(
                f"config.{section_name}.{key} is missing: start the config from "
                f"aelab.defaults.base_config(), which sets it to {declared[key][0]!r}."
            )
        for key in section.keys():
            path = f"{section_name}.{key}"
            if key in declared:
                _check_value(checker, path, section[key], *declared[key])
            elif section_name in STRICT_SECTIONS:
                _unknown_field(checker, path, declared)
            elif section_name == "model" and (rule := _free_form_rule(key)):
                if (problem := rule(section[key])) is not None:
                    checker.add(path, section[key], problem)


def _check_value(checker: _Checker, path: str, value: Any, default: Any, field_type) -> None:
    rule = FIELD_RULES.get(path) or _type_rule(default, field_type)
    if rule is not None and (problem := rule(value)) is not None:
        checker.add(path, value, problem)


# ------------------------------------------------------------------- device checks


def _check_devices(config, checker: _Checker, num_devices: int | None) -> None:
    available = jax.device_count()
    requested = config.mesh.get("num_devices")
    if requested is not None and requested > available:
        checker.add("mesh.num_devices", requested, f"must be at most the {available} devices here")
        return
    devices = num_devices or requested or available
    for field in ("batch_size", "eval_batch_size"):
        size = config.data.get(field)
        if size is not None and size % devices:
            checker.problems.append(
                f"config.data.{field}={size} does not divide among {devices} devices; use a "
                f"multiple of {devices} (it is the global batch, split over the devices)."
            )
    distributed = config.distributed
    process_id, num_processes = distributed.get("process_id"), distributed.get("num_processes")
    if process_id is not None and num_processes is not None and process_id >= num_processes:
        checker.add("distributed.process_id", process_id, f"must be < {num_processes=}")


# --------------------------------------------------------------------- data checks


def _check_data(config, checker: _Checker):
    """Checks the data fields against the data set's metadata; returns its RunSpec."""
    from aelab.training.experiment import build_run_spec

    spec = build_run_spec(config)  # DataError / registry errors are already clear.
    info = spec.info
    train_split = config.data.get("train_split", "train")
    size = info.splits.get(train_split)
    if size is not None and config.data.batch_size > size:
        checker.add(
            "data.batch_size",
            config.data.batch_size,
            f"must be at most the {size} examples of split {train_split!r} of {info.name!r}",
        )
    for field in ("train_labels", "eval_labels"):
        labels = config.data.get(field)
        if labels is None:
            continue
        if info.num_classes is None:
            checker.add(
                f"data.{field}", labels, f"must be None: data set {info.name!r} has no labels"
            )
        elif any(label >= info.num_classes for label in labels):
            checker.add(
                f"data.{field}",
                labels,
                f"must be class indices below {info.num_classes} ({info.name!r})",
            )
    return spec


# ---------------------------------------------------- model / objective / optimizer


class _RecordingConfig(ml_collections.ConfigDict):
    """A ConfigDict that remembers which fields were looked up (present or not)."""

    def __init__(self, fields: dict):
        object.__setattr__(self, "reads", set())
        super().__init__(fields)

    def __getitem__(self, key):
        self.reads.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.reads.add(key)
        return super().__contains__(key)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    first = text.splitlines()[0].rstrip(".") if text else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


def _check_reads(checker: _Checker, section: str, recorded: _RecordingConfig, what: str) -> None:
    """Unread free-form fields: a likely misspelling is an error, anything else a warning."""
    declared = set(base_config()[section].keys())
    present = set(recorded.keys())
    read = recorded.reads & present
    for key in sorted(present - read - declared):
        close = difflib.get_close_matches(key, sorted(read | declared), n=1, cutoff=0.75)
        if close:
            checker.problems.append(
                f"config.{section}.{key} is not read by {what}: did you mean {close[0]!r}? "
                f"({what} reads: {', '.join(sorted(read))})."
            )
        else:
            checker.warnings.append(
                f"config.{section}.{key} has no effect: {what} does not read it "
                f"(it reads: {', '.join(sorted(read))})."
            )


def _missing_fields(recorded: _RecordingConfig) -> list[str]:
    return sorted(recorded.reads - set(recorded.keys()))


def _check_model_and_objective(config, spec, checker: _Checker):
    """Traces the model and objective on a batch of two; returns abstract params."""
    from aelab.models import build_model
    from aelab.models.registry import tiny_setup

    model_config = _RecordingConfig(config.model.to_dict())
    example_shape, output_shape = spec.example_shape, spec.output_shape
    model_name = config.model.name
    data_desc = f"inputs of shape {example_shape} (data set {spec.info.name!r})"

    def build():
        model = build_model(model_config, example_shape, output_shape, rngs=nnx.Rngs(0))
        return nnx.to_pure_dict(nnx.state(model, nnx.Param))

    try:
        params = jax.eval_shape(build)
    except Exception as e:  # Builders raise anything; we explain it.
        missing = [m for m in _missing_fields(model_config) if m != "name"]
        needs = f" It needs config.model.{', config.model.'.join(missing)}." if missing else ""
        checker.problems.append(
            f"config.model.name={model_name!r} cannot be built for {data_desc}:"
            f" {_first_line(e)}.{needs} (It accepts, for example, inputs of shape "
            f"{tiny_setup(model_name)[1]}.)"
        )
        return None
    _check_reads(checker, "model", model_config, f"model {model_name!r}")

    objective_config = _RecordingConfig(config.objective.to_dict())
    batch = {"inputs": jnp.zeros((2, *example_shape), jnp.float32)}
    if spec.info.num_classes is not None:
        batch["label"] = jnp.zeros((2,), jnp.int32)

    def forward():
        from aelab.objectives import build_objective

        model = build_model(model_config, example_shape, output_shape, rngs=nnx.Rngs(0))
        decoded = model(batch["inputs"], train=True, rngs=nnx.Rngs(1)).decoded
        loss, metrics = build_objective(objective_config)(
            model, batch, rngs=nnx.Rngs(2), train=True, step=0
        )
        return decoded, loss, metrics

    try:
        decoded, loss, metrics = jax.eval_shape(forward)
    except Exception as e:
        checker.problems.append(
            f"config.objective.name={config.objective.name!r} with config.model.name="
            f"{model_name!r} fails on {data_desc}: {_first_line(e)}."
        )
        return None
    if tuple(decoded.shape[1:]) != tuple(output_shape):
        checker.problems.append(
            f"config.model.name={model_name!r} decodes {data_desc} to shape "
            f"{tuple(decoded.shape[1:])}, but likelihood "
            f"{config.objective.get('likelihood')!r} needs {tuple(output_shape)}."
        )
    if loss.shape != ():
        checker.problems.append(
            f"config.objective.name={config.objective.name!r}: the loss has shape {loss.shape};"
            " an objective must return a scalar."
        )
    _check_reads(checker, "objective", objective_config, f"objective {config.objective.name!r}")
    metric = config.train.get("best_metric", "eval/loss")
    if metric.removeprefix("eval/") not in metrics:
        checker.warnings.append(
            f"config.train.best_metric={metric!r} is not among the objective's metrics "
            f"(eval/{', eval/'.join(sorted(metrics))}); the run stops at its first evaluation "
            "unless an evaluator reports it."
        )
    return params


def _check_optimizer(config, params, checker: _Checker) -> None:
    from aelab.training.optimizers import build_optimizer
    from aelab.training.schedules import build_schedule

    recorded = _RecordingConfig(config.optimizer.to_dict())
    name, schedule_name = config.optimizer.name, config.optimizer.get("schedule", "constant")
    what = f"optimizer {name!r} with schedule {schedule_name!r}"
    num_steps = config.train.num_steps
    try:
        optimizer = build_optimizer(recorded, num_steps)
        jax.eval_shape(lambda p: optimizer.update(p, optimizer.init(p), p), params)
        schedule = build_schedule(recorded, num_steps)
        rates = {step: float(schedule(step)) for step in (0, num_steps // 2, num_steps)}
    except Exception as e:
        missing = [m for m in _missing_fields(recorded) if m not in base_config().optimizer]
        needs = (
            f" It needs config.optimizer.{', config.optimizer.'.join(missing)}." if missing else ""
        )
        checker.problems.append(
            f"config.optimizer: {what} cannot be built: {_first_line(e)}.{needs}"
        )
        return
    bad = {step: rate for step, rate in rates.items() if not (math.isfinite(rate) and rate >= 0)}
    if bad:
        fields = ", ".join(sorted(recorded.reads & set(recorded.keys())))
        checker.problems.append(
            f"config.optimizer: {what} gives learning rates {bad} (step: rate); rates must be "
            f"finite and >= 0. Fields it reads: {fields}."
        )
    _check_reads(checker, "optimizer", recorded, what)


# ------------------------------------------------------------------------- entry


def _check_evals(config, checker: _Checker) -> None:
    """config.evals: {registered evaluator name: its options (a dict)}."""
    evals = config.get("evals")
    if evals is None:
        return
    if not isinstance(evals, (ml_collections.ConfigDict, dict)):
        checker.add("evals", evals, "must be a ConfigDict of {evaluator: options}")
        return
    # Imported here: aelab.evaluation builds on the training package, which imports this.
    from aelab.evaluation import list_evaluators

    known = list_evaluators()
    for name in evals.keys():
        options = evals[name]
        if name not in known:
            checker.add(f"evals.{name}", options, f"is not an evaluator; known: {', '.join(known)}")
        elif options is not None and not isinstance(options, (ml_collections.ConfigDict, dict)):
            checker.add(f"evals.{name}", options, "must be a dict of the evaluator's options")


def validate_config(config, *, num_devices: int | None = None) -> None:
    """Checks every field of `config` before anything is built or compiled.

    Args:
      config: an experiment ConfigDict (built on `aelab.defaults.base_config()`).
      num_devices: the number of devices the run will use; default: `mesh.num_devices`
        or every device JAX sees. Call after `jax.distributed.initialize` in a
        multi-process job.

    Raises:
      ConfigError: listing every problem found (field, value, what is valid).
      DataError: the data set's files are missing or malformed (`npz`, `tfds:` sets,
        whose metadata comes from their files).
    """
    checker = _Checker()
    _check_fields(config, checker)
    _check_evals(config, checker)
    if not checker.problems:
        _check_devices(config, checker, num_devices)
    if not checker.problems:
        spec = _check_data(config, checker)
        if not checker.problems:
            params = _check_model_and_objective(config, spec, checker)
            if params is not None:
                _check_optimizer(config, params, checker)
    for warning in checker.warnings:
        logging.warning("%s", warning)
    if checker.problems:
        raise ConfigError(checker.problems)
