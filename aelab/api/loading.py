"""`aelab.load`: a trained model from a work directory, an exported model folder or
the Hugging Face Hub, ready for NumPy arrays."""

from __future__ import annotations

from aelab.api.trained_model import TrainedModel
from aelab.evaluation import load_trained


def load(path: str, step: int | str = "best", *, batch_size: int = 500) -> TrainedModel:
    """The trained model at `path`.

    Args:
      path: a training work directory (its checkpoint `step`), a folder written by
        `aelab.export`, or "hf://owner/repo[@revision]" (an exported model on the
        Hugging Face Hub; `pip install 'aelab[hub]'`).
      step: "best" (chosen on the validation split; the latest without one), "latest"
        or a step number (an exported folder holds one step).
      batch_size: examples per jitted call of the model.

    Raises:
      FileNotFoundError: nothing loadable at `path` (the message says what is missing).
      ValueError: an unknown step.
    """
    return TrainedModel(load_trained(path, step), batch_size=batch_size)
