"""The whole config: training's sections plus `config.evals`, and its validation."""

from __future__ import annotations

from aelab.evaluation.periodic import schedule_problems
from aelab.evaluation.registry import EVALS_SECTION
from aelab.training.config_schema import TRAINING_SCHEMA
from aelab.training.validation import check_config, raise_problems

CONFIG_SCHEMA = TRAINING_SCHEMA.with_sections(EVALS_SECTION)


def validate_config(config, *, num_devices: int | None = None) -> None:
    """Checks every field of `config` (all sections, `evals` included) before anything
    is built or compiled (`aelab.training.validation` describes the checks).

    Args:
      config: an experiment ConfigDict (built on `aelab.config.base_config()`).
      num_devices: the number of devices the run will use; default: `mesh.num_devices`
        or every device JAX sees.

    Raises:
      ConfigError: listing every problem found (field, value, what is valid).
      DataError: the data set's files are missing or malformed.
    """
    report = check_config(config, schema=CONFIG_SCHEMA, num_devices=num_devices)
    raise_problems(report, schedule_problems(config) if not report.problems else ())
