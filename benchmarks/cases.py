"""What each benchmark compares: the same model, optimizer, batch and data on both sides.

Each `Case` names an aelab config (built on `aelab.config.base_config()`) and the
PyTorch model in `torch_models.py` with the same layers. Data are synthetic arrays of
the real data sets' shapes and types (MNIST-like uint8 images, ECG5000-like float
series), so the benchmark needs no downloads and both sides read the same examples.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from aelab.config import base_config

BATCH_SIZE = 128
NUM_EXAMPLES = 10_000
IMAGE_SHAPE = (28, 28, 1)
SERIES_SHAPE = (140, 1)

# How the PyTorch side gets its batches (worker.py --torch_input), each with its row.
# "pipeline" samples every batch inside the timed step (randperm indexing, /255,
# torch.bernoulli), a large part of a small model's step on 2 cores; "precomputed"
# cycles through batches made before timing, PyTorch's best case. The target ratios
# are held against the best case.
TORCH_INPUTS = {
    "precomputed": "precomputed batches",
    "pipeline": "with its input pipeline",
}
TARGET_TORCH_INPUT = "precomputed"


@dataclasses.dataclass(frozen=True)
class Case:
    """One model to train on both sides.

    Attributes:
      name: row name.
      description: what the model is, for the table.
      data: "images" (uint8 [N, 28, 28, 1], scaled to [0, 1]) or "series" (float32
        [N, 140, 1], used as they are).
      binarize: "none" or "dynamic" (a fresh Bernoulli sample per batch, both sides).
      model: `config.model` fields.
      objective: `config.objective` fields.
      torch_model: class name in torch_models.py and its keyword arguments.
      steps_per_call: aelab's `config.train.steps_per_call` (steps fused per host call).
      target_ratio: aelab / PyTorch steps per second the issue asks for, against PyTorch
        on precomputed batches (`TARGET_TORCH_INPUT`; None: none).
      target_peak_fraction: fraction of the measured matmul peak asked for (None: none).
    """

    name: str
    description: str
    data: str
    binarize: str
    model: dict
    objective: dict
    torch_model: tuple[str, dict]
    steps_per_call: int
    target_ratio: float | None = None
    target_peak_fraction: float | None = None


CASES = {
    case.name: case
    for case in [
        Case(
            name="mlp_vae",
            description="MLP VAE 784-400-20, dynamically binarised",
            data="images",
            binarize="dynamic",
            model={"name": "dense_vae", "hidden_dims": (400,), "latent_dim": 20},
            objective={"name": "elbo", "likelihood": "bernoulli"},
            torch_model=("MlpVae", {"hidden": 400, "latent": 20}),
            steps_per_call=50,
            target_ratio=2.0,
            target_peak_fraction=0.75,
        ),
        Case(
            name="conv_ae",
            description="conv AE (32, 64) channels, 32-d code, subpixel upsampling",
            data="images",
            binarize="none",
            model={
                "name": "conv_ae",
                "channels": (32, 64),
                "latent_dim": 32,
                "upsample": "subpixel",
            },
            objective={"name": "reconstruction", "likelihood": "bernoulli"},
            torch_model=("ConvAe", {"channels": (32, 64), "latent": 32}),
            steps_per_call=10,
            target_ratio=1.0,
        ),
        Case(
            name="residual_vae",
            description="residual conv VAE (32, 64) channels, 32-d latent (stand-in)",
            data="images",
            binarize="none",
            model={"name": "bench_residual_vae", "channels": (32, 64), "latent_dim": 32},
            objective={"name": "elbo", "likelihood": "bernoulli"},
            torch_model=("ResidualVae", {"channels": (32, 64), "latent": 32}),
            steps_per_call=10,
            target_ratio=1.0,
        ),
        Case(
            name="lstm_ae",
            description="LSTM AE, 140 steps, 64 hidden, 16-d code (stand-in)",
            data="series",
            binarize="none",
            model={"name": "bench_lstm_ae", "hidden_size": 64, "latent_dim": 16},
            objective={"name": "reconstruction", "likelihood": "mse"},
            torch_model=("LstmAe", {"channels": 1, "hidden": 64, "latent": 16}),
            steps_per_call=10,
        ),
    ]
}


def aelab_config(case: Case, **overrides):
    """The aelab config of `case`; `overrides` are "section.field" -> value."""
    config = base_config()
    config.data.batch_size = BATCH_SIZE
    config.data.binarize = case.binarize
    config.data.flatten = case.model["name"].startswith("dense")
    config.data.device_resident = "always"
    for key, value in case.model.items():
        config.model[key] = value
    for key, value in case.objective.items():
        config.objective[key] = value
    config.optimizer.name = "adam"
    config.optimizer.learning_rate = 1e-3
    config.train.steps_per_call = case.steps_per_call
    for path, value in overrides.items():
        section, field = path.split(".")
        config[section][field] = value
    return config


def synthetic_arrays(case: Case, num_examples: int = NUM_EXAMPLES) -> dict[str, np.ndarray]:
    """Seeded random examples shaped like the case's real data: {"image"|"series", "label"}."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, num_examples).astype(np.int64)
    if case.data == "images":
        images = rng.integers(0, 256, (num_examples, *IMAGE_SHAPE), dtype=np.uint8)
        return {"image": images, "label": labels}
    series = rng.standard_normal((num_examples, *SERIES_SHAPE)).astype(np.float32)
    return {"series": series, "label": labels}
