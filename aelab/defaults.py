"""Every config field aelab reads, with its default.

Experiment configs start from `base_config()` and change what they need:

    config = base_config()
    config.data.name = "mnist"
    config.model.name = "dense_vae"

Fields of `config.model` beyond `name` and `latent_dim` depend on the model family
(see `aelab.models`); `config.objective` fields beyond these defaults depend on the
objective.
"""

from __future__ import annotations

import ml_collections
from ml_collections.config_dict import placeholder


def base_config() -> ml_collections.ConfigDict:
    """A config with every shared field set to its default."""
    config = ml_collections.ConfigDict()
    config.seed = 0  # parameters, training rng; the data seed defaults to it

    config.data = ml_collections.ConfigDict()
    config.data.name = "digits"  # see aelab.data.list_datasets()
    config.data.data_dir = placeholder(str)  # None: $AELAB_DATA_DIR
    config.data.tfds_data_dir = placeholder(
        str
    )  # None: $AELAB_TFDS_DIR or ~/.cache/aelab/tensorflow_datasets
    config.data.path = placeholder(str)  # the file, for data set "npz"
    config.data.input_key = "image"  # npz: the model input ("image" | "series" | "inputs")
    config.data.in_memory = True  # load a split into memory once
    config.data.train_split = "train"
    config.data.eval_split = "test"
    config.data.batch_size = 128  # global: split over all devices and processes
    config.data.eval_batch_size = 500
    config.data.scale = True  # raw values -> [0, 1]
    config.data.binarize = "none"  # "none" | "dynamic" | "threshold"
    config.data.flatten = False  # [h, w, c] -> [h * w * c]
    # Denoising: "none" | "gaussian" | "masking" | "salt_and_pepper" corruption of the
    # inputs (the clean data become the targets); level = noise std or corrupted fraction.
    config.data.corruption = "none"
    config.data.corruption_level = 0.0
    config.data.train_labels = placeholder(tuple)  # e.g. (0,): train on normal ECG beats only
    config.data.eval_labels = placeholder(tuple)
    config.data.seed = placeholder(int)  # None: config.seed
    # Keep the transformed training split on the devices ("always"), stream it from the
    # host ("never"), or decide by its size ("auto"); same batches either way.
    config.data.device_resident = "auto"

    config.model = ml_collections.ConfigDict()
    config.model.name = "dense_vae"  # see aelab.models.list_models()
    config.model.latent_dim = 16

    config.objective = ml_collections.ConfigDict()
    config.objective.name = "elbo"  # see aelab.objectives.list_objectives()
    config.objective.likelihood = "bernoulli"
    config.objective.beta = 1.0
    config.objective.l1_weight = 0.0
    config.objective.l2_weight = 0.0

    config.optimizer = ml_collections.ConfigDict()
    config.optimizer.name = "adam"  # "sgd" | "adam" | "adamw" | "rmsprop"
    config.optimizer.learning_rate = 1e-3
    config.optimizer.schedule = "constant"  # see aelab.training.schedules
    config.optimizer.warmup_steps = 0
    config.optimizer.grad_clip_norm = placeholder(float)

    config.train = ml_collections.ConfigDict()
    config.train.num_steps = 10_000
    config.train.log_every = 100
    config.train.eval_every = 1_000
    config.train.checkpoint_every = 1_000
    config.train.keep_checkpoints = 2  # plus the best one
    config.train.steps_per_call = 1  # steps fused into one jitted call (lax.scan)
    # "bfloat16": mixed precision (bf16 compute, float32 parameters and optimizer state).
    config.train.compute_dtype = "float32"
    config.train.eval_examples = placeholder(int)  # None: the whole eval split
    config.train.best_metric = "eval/loss"
    config.train.best_mode = "min"
    config.train.early_stopping_patience = 0  # evaluations without improvement; 0: off
    config.train.early_stopping_min_delta = 0.0
    config.train.nonfinite = "stop"  # NaN/inf loss: "stop" with an error | "skip" the update
    config.train.nonfinite_patience = 100  # "skip": stop after this many in a row; 0: never

    # Evaluators run by experiments/evaluate.py: {name: options}, see
    # aelab.evaluation.list_evaluators(). An entry with every=N > 0 also runs every N
    # training steps (N a multiple of train.eval_every) and at the end of training.
    config.evals = ml_collections.ConfigDict()
    config.evals.reconstruction = ml_collections.ConfigDict({"every": 0})
    config.evals.generation = ml_collections.ConfigDict({"every": 0})
    config.evals.cost = ml_collections.ConfigDict({"every": 0})

    config.mesh = ml_collections.ConfigDict()
    config.mesh.num_devices = placeholder(int)  # None: every device of every process
    # "fsdp": shard parameters and optimizer state over the "data" axis (see
    # aelab.training.mesh.fsdp_shardings); "replicated": a full copy on every device.
    config.mesh.param_sharding = "replicated"

    config.distributed = ml_collections.ConfigDict()
    config.distributed.initialize = "auto"  # "auto" | "always" | "never"
    config.distributed.coordinator_address = placeholder(str)  # "host:port" for a hand-started job
    config.distributed.num_processes = placeholder(int)
    config.distributed.process_id = placeholder(int)
    return config


def make_smoke(config: ml_collections.ConfigDict, num_steps: int = 10):
    """Shrinks `config` in place to a few-step run of the same experiment (the `smoke`
    variant every config offers): `num_steps` steps, logs, evaluation on at most 500
    examples and checkpoints at the end. Returns `config`."""
    config.train.num_steps = num_steps
    config.train.log_every = max(1, num_steps // 2)
    config.train.eval_every = num_steps
    config.train.checkpoint_every = num_steps
    config.train.steps_per_call = min(config.train.steps_per_call, config.train.log_every)
    config.train.eval_examples = 500
    return config


def check_variant(arg: str | None, variants: tuple[str, ...] = ("smoke",)) -> str | None:
    """Validates a config's `get_config(arg)` argument: None/"" or one of `variants`."""
    if arg in (None, ""):
        return None
    if arg not in variants:
        raise ValueError(
            f"Unknown config variant {arg!r}; valid variants: {', '.join(variants)} "
            "(e.g. --config=configs/quickstart.py:smoke)."
        )
    return arg


def parse_config_arg(arg: str | None, defaults: dict[str, object]) -> dict[str, object]:
    """Parses a config argument "key=value,key=value" (each key optional) against
    `defaults`, converting each value to its default's type (int, float or str).

    Example: parse_config_arg("objective=iwae,k=50", {"objective": "vae", "k": 1,
    "budget": "full"}) -> {"objective": "iwae", "k": 50, "budget": "full"}.
    """
    values = dict(defaults)
    for item in filter(None, (part.strip() for part in (arg or "").split(","))):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or key not in defaults:
            raise ValueError(
                f"Config argument {item!r} is not valid: write key=value with keys "
                f"{', '.join(defaults)} (e.g. --config=configs/X.py:"
                f"{','.join(f'{k}={v}' for k, v in defaults.items())})."
            )
        kind = type(defaults[key])
        try:
            values[key] = kind(value.strip())
        except ValueError:
            raise ValueError(
                f"Config argument {key}={value!r} is not valid: expected a {kind.__name__}."
            ) from None
    return values
