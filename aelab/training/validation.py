"""Checks a whole training config before anything is written or compiled.

A mistake in a config should cost seconds, not a compile, a data download or an hour of
training that ends in a traceback from deep inside JAX. `check_config` checks, in this
order, and reports every problem it finds as one line naming the field, its value,
what is valid and the fix:

1. The walk over the schema (`aelab.core.schema`): every section, the registry entry
   each selector names, and every option that entry declares: unknown fields ("did you
   mean ..."), types, choices and ranges.
2. Devices: `mesh.num_devices` exists, and the train and eval batch sizes divide among
   the devices.
3. Data: the data set's shapes and splits (from its metadata, no data is read): the
   batch fits the train split, labels exist.
4. Model, objective and optimizer together, traced abstractly (`jax.eval_shape`: shapes
   only, no compile, no memory): the model builds for the data's example shape (a conv
   model on a 1-D series fails here), decodes to the shape the likelihood expects, the
   objective accepts it, the optimizer and its schedule build and give finite rates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
from absl import logging
from flax import nnx

from aelab.core.contract import bind_condition
from aelab.core.errors import ConfigError
from aelab.core.plugins import import_modules
from aelab.core.schema import ConfigSchema, Report
from aelab.data.pipeline import PipelineOptions
from aelab.data.run_splits import has_validation
from aelab.models import build_model, tiny_setup
from aelab.models.ensemble import objective_over_members
from aelab.objectives import build_objective
from aelab.objectives.adversarial import is_adversarial
from aelab.training.batches import BatchSourceOptions
from aelab.training.checkpointing import CheckpointOptions
from aelab.training.config_schema import TRAINING_SCHEMA
from aelab.training.early_stopping import EarlyStoppingOptions
from aelab.training.experiment import RunSpec, build_run_spec
from aelab.training.loop import LoopOptions
from aelab.training.mesh import MeshOptions
from aelab.training.optimizers import (
    OPTIMIZER_SELECTOR,
    build_discriminator_optimizer,
    build_optimizer,
)
from aelab.training.schedules import build_schedule, schedule_name
from aelab.training.state import init_train_state
from aelab.training.step import PrecisionOptions, make_adversarial_train_step


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    first = text.splitlines()[0].rstrip(".") if text else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


def _check_devices(config, report: Report, num_devices: int | None) -> None:
    available = jax.device_count()
    requested = MeshOptions.from_section(config.mesh, path="mesh").num_devices
    if requested is not None and requested > available:
        report.problems.append(
            f"config.mesh.num_devices={requested} is not valid: must be at most the "
            f"{available} devices here."
        )
        return
    devices = num_devices or requested or available
    pipeline = PipelineOptions.from_section(config.data, path="data")
    for field, size in (
        ("batch_size", pipeline.batch_size),
        ("eval_batch_size", pipeline.eval_batch_size),
    ):
        if size is not None and size % devices:
            report.problems.append(
                f"config.data.{field}={size} does not divide among {devices} devices; use a "
                f"multiple of {devices} (it is the global batch, split over the devices)."
            )


def _check_data(config, report: Report) -> RunSpec:
    """Checks the data fields against the data set's metadata; returns the RunSpec."""
    spec = build_run_spec(config)  # DataError / registry errors are already clear.
    info = spec.info
    pipeline = PipelineOptions.from_section(config.data, path="data")
    size = info.splits.get(pipeline.train_split)
    if size is not None and pipeline.batch_size > size:
        report.problems.append(
            f"config.data.batch_size={pipeline.batch_size} is not valid: must be at most the "
            f"{size} examples of split {pipeline.train_split!r} of {info.name!r}."
        )
    for field in ("train_labels", "eval_labels"):
        labels = getattr(pipeline, field)
        if labels is None:
            continue
        if info.num_classes is None:
            report.problems.append(
                f"config.data.{field}={labels!r} is not valid: must be None: data set "
                f"{info.name!r} has no labels."
            )
        elif any(label >= info.num_classes for label in labels):
            report.problems.append(
                f"config.data.{field}={labels!r} is not valid: must be class indices below "
                f"{info.num_classes} ({info.name!r})."
            )
    stopping = EarlyStoppingOptions.from_section(config.train, path="train")
    if stopping.early_stopping_patience and not has_validation(config.data):
        report.problems.append(
            f"config.train.early_stopping_patience={stopping.early_stopping_patience} needs a "
            "validation split to stop on: set config.data.validation_fraction > 0 (or "
            "validation_split); stopping on the test split would select the model on it."
        )
    mode = BatchSourceOptions.from_section(config.data, path="data").device_resident
    if mode == "always" and not spec.transform.corruption.is_identity:
        report.problems.append(
            "config.data.device_resident='always' is not valid with a corruption "
            f"(config.data.corruption.name={spec.transform.corruption.name!r}): corrupted "
            "batches are made on the host; use 'auto' or 'never'."
        )
    return spec


def _check_model_and_objective(config, spec: RunSpec, report: Report):
    """Traces the model and objective on a batch of two; returns abstract params."""
    example_shape, output_shape = spec.example_shape, spec.output_shape
    model_name = config.model.name
    data_desc = f"inputs of shape {example_shape} (data set {spec.info.name!r})"

    def build():
        model = build_model(config.model, example_shape, output_shape, rngs=nnx.Rngs(0))
        return nnx.to_pure_dict(nnx.state(model, nnx.Param))

    try:
        params = jax.eval_shape(build)
    except Exception as e:  # Builders raise anything; we explain it.
        report.problems.append(
            f"config.model.name={model_name!r} cannot be built for {data_desc}:"
            f" {_first_line(e)}. (It accepts, for example, inputs of shape "
            f"{tiny_setup(model_name)[1]}.)"
        )
        return None

    batch = {"inputs": jnp.zeros((2, *example_shape), jnp.float32)}
    if spec.info.num_classes is not None:
        batch["label"] = jnp.zeros((2,), jnp.int32)

    def forward():
        model = build_model(config.model, example_shape, output_shape, rngs=nnx.Rngs(0))
        model = bind_condition(model, batch)
        decoded = model(batch["inputs"], train=True, rngs=nnx.Rngs(1)).decoded
        loss, metrics = objective_over_members(
            build_objective(config.objective), model, batch, rngs=nnx.Rngs(2), train=True, step=0
        )
        return decoded, loss, metrics

    try:
        decoded, loss, metrics = jax.eval_shape(forward)
    except Exception as e:
        report.problems.append(
            f"config.objective.name={config.objective.name!r} with config.model.name="
            f"{model_name!r} fails on {data_desc}: {_first_line(e)}."
        )
        return None
    if tuple(decoded.shape[1:]) != tuple(output_shape):
        report.problems.append(
            f"config.model.name={model_name!r} decodes {data_desc} to shape "
            f"{tuple(decoded.shape[1:])}, but likelihood "
            f"{config.objective.get('likelihood')!r} needs {tuple(output_shape)}."
        )
    if loss.shape != ():
        report.problems.append(
            f"config.objective.name={config.objective.name!r}: the loss has shape {loss.shape};"
            " an objective must return a scalar."
        )
    metric = CheckpointOptions.from_section(config.train, path="train").best_metric
    if metric.startswith("eval/") and metric.removeprefix("eval/") not in metrics:
        report.warnings.append(
            f"config.train.best_metric={metric!r} is not among the objective's metrics "
            f"(eval/{', eval/'.join(sorted(metrics))}); the run stops at its first evaluation "
            "unless an evaluator reports it."
        )
    return params


def _check_optimizer(config, params, report: Report) -> None:
    name = OPTIMIZER_SELECTOR.value(config.optimizer)
    what = f"optimizer {name!r} with schedule {schedule_name(config.optimizer)!r}"
    num_steps = LoopOptions.from_section(config.train, path="train").num_steps
    try:
        optimizer = build_optimizer(config.optimizer, num_steps)
        jax.eval_shape(lambda p: optimizer.update(p, optimizer.init(p), p), params)
        schedule = build_schedule(config.optimizer, num_steps)
        rates = {step: float(schedule(step)) for step in (0, num_steps // 2, num_steps)}
    except Exception as e:
        report.problems.append(f"config.optimizer: {what} cannot be built: {_first_line(e)}.")
        return
    bad = {step: rate for step, rate in rates.items() if not (math.isfinite(rate) and rate >= 0)}
    if bad:
        report.problems.append(
            f"config.optimizer: {what} gives learning rates {bad} (step: rate); rates must be "
            "finite and >= 0."
        )


def check_config(
    config, *, schema: ConfigSchema = TRAINING_SCHEMA, num_devices: int | None = None
) -> Report:
    """Every check of the module docstring; returns the problems and warnings."""
    import_modules(config)  # `config.imports`: components that register themselves.
    report, _ = schema.check(config)
    if report.problems:
        return report
    _check_devices(config, report, num_devices)
    if report.problems:
        return report
    spec = _check_data(config, report)
    if report.problems:
        return report
    params = _check_model_and_objective(config, spec, report)
    if params is not None:
        _check_optimizer(config, params, report)
    if params is not None and is_adversarial(spec.objective):
        _check_discriminator(config, spec, report)
    return report


def _check_discriminator(config, spec: RunSpec, report: Report) -> None:
    """An adversarial objective: full precision, and its discriminator, optimizer and
    both losses trace on a batch of two."""
    name = config.objective.name
    dtype = PrecisionOptions.from_section(config.train, path="train").compute_dtype
    if dtype != "float32":
        report.problems.append(
            f"config.train.compute_dtype={dtype!r} is not valid with objective {name!r}, "
            "which trains a discriminator: the two-optimizer step runs in float32; set "
            "config.train.compute_dtype='float32'."
        )
        return
    num_steps = LoopOptions.from_section(config.train, path="train").num_steps
    batch = {"inputs": jnp.zeros((2, *spec.example_shape), jnp.float32)}

    def step():
        optimizer = build_optimizer(config.optimizer, num_steps)
        d_optimizer = build_discriminator_optimizer(config.optimizer, num_steps)
        state, (graphdef, d_graphdef) = init_train_state(
            config.model,
            spec.example_shape,
            spec.output_shape,
            optimizer,
            jax.random.PRNGKey(0),
            objective=spec.objective,
            discriminator_optimizer=d_optimizer,
        )
        train_step = make_adversarial_train_step(
            graphdef, d_graphdef, spec.objective, optimizer, d_optimizer
        )
        return train_step(state, batch)[1]

    try:
        jax.eval_shape(step)
    except Exception as e:
        report.problems.append(
            f"config.objective.name={name!r}: its discriminator and two-optimizer step "
            f"(config.optimizer.discriminator) fail on config.model.name="
            f"{config.model.name!r}: {_first_line(e)}."
        )


def raise_problems(report: Report, extra_problems: Sequence[str] = ()) -> None:
    """Logs the report's warnings; raises a `ConfigError` listing its problems (and
    `extra_problems`), if any."""
    for warning in report.warnings:
        logging.warning("%s", warning)
    problems = [*report.problems, *extra_problems]
    if problems:
        raise ConfigError(problems)


def validate_training_config(
    config, *, schema: ConfigSchema = TRAINING_SCHEMA, num_devices: int | None = None
) -> None:
    """Checks `config` (see the module docstring) before anything is built or compiled.

    Args:
      config: an experiment ConfigDict (built on `aelab.config.base_config()`).
      schema: the sections to check (the evaluation layer adds `config.evals`).
      num_devices: the number of devices the run will use; default: `mesh.num_devices`
        or every device JAX sees. Call after `jax.distributed.initialize` in a
        multi-process job.

    Raises:
      ConfigError: listing every problem found (field, value, what is valid).
      DataError: the data set's files are missing or malformed (`npz`, `tfds:` sets,
        whose metadata comes from their files).
    """
    raise_problems(check_config(config, schema=schema, num_devices=num_devices))
