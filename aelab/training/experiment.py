"""What a config implies before any array exists: data shapes, objective, model shapes.

Shared by training and by everything that reloads a trained run (evaluation, sweeps).
"""

from __future__ import annotations

import dataclasses

from aelab.data import DatasetInfo, dataset_info
from aelab.data.transforms import BatchTransform, batch_transform_from_config
from aelab.objectives import Objective, build_objective


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """Derived facts about a run.

    Attributes:
      info: the data set's description (input shape, value range, splits).
      transform: raw records -> model inputs.
      example_shape: shape of one model input, after transforms.
      objective: the training objective.
      output_shape: shape of the decoder output for one example.
    """

    info: DatasetInfo
    transform: BatchTransform
    example_shape: tuple[int, ...]
    objective: Objective
    output_shape: tuple[int, ...]


def build_run_spec(config, info: DatasetInfo | None = None) -> RunSpec:
    """Resolves `config` into a `RunSpec` (reads data set metadata, builds the objective).

    Args:
      config: the run's config.
      info: the data set's description, when it is known without the data set (an
        exported model's data_info.json); read from `config.data` when None.
    """
    if info is None:
        info = dataset_info(config.data)
    transform = batch_transform_from_config(config.data, info)
    example_shape = transform.example_shape(info.input_shape)
    objective = build_objective(config.objective)
    return RunSpec(
        info=info,
        transform=transform,
        example_shape=example_shape,
        objective=objective,
        output_shape=objective.decoder_output_shape(example_shape),
    )
