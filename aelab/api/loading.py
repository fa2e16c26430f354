"""`aelab.load`: a trained model from a work directory, an exported model folder or
the Hugging Face Hub, ready for NumPy arrays."""

from __future__ import annotations

from aelab.api.trained_model import TrainedModel
from aelab.evaluation.loading import load_run


def load(path: str, step: int | str = "best", *, batch_size: int = 500) -> TrainedModel:
    """The trained model at `path`.

    Args:
      path: a training work directory (its checkpoint `step`).
      step: "best" (chosen on the validation split; the latest without one), "latest"
        or a step number; for work directories only.
      batch_size: examples per jitted call of the model.

    Raises:
      FileNotFoundError: nothing loadable at `path` (the message says what is missing).
      ValueError: an unknown step.
    """
    return TrainedModel(load_run(path, step), batch_size=batch_size)
