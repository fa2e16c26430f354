"""The set-up shared by the quantised-bottleneck configs (configs/mnist_vq.py,
mnist_fsq.py, mnist_rvq.py, mnist_lfq.py), so they differ only in the quantiser: the
same conv encoder and decoder, 16 code vectors per image and ~10 bits per vector (160
bits per image), Bernoulli reconstruction, Adam 1e-3, the checkpoint chosen by
validation MSE (10% of the training split held out), and the codebook evaluator.

Not an experiment config itself (its name starts with "_").
"""

from aelab.config import base_config, make_smoke, parse_config_arg

NUM_VECTORS = 16
DEFAULTS = {"data": "mnist", "steps": 1500}
DATA_SETS = ("mnist", "fashion_mnist")


def quantized_config(arg: str | None, quantizer: str, code_dim: int, fields: dict):
    """The config of one quantiser: `arg` is "data=mnist|fashion_mnist,steps=<n>,smoke"
    (each optional); `fields` are its `config.model` quantiser options."""
    words = [w for w in (arg or "").split(",") if w]
    smoke = "smoke" in words
    args = parse_config_arg(",".join(w for w in words if w != "smoke"), DEFAULTS)
    if args["data"] not in DATA_SETS or args["steps"] < 1:
        raise ValueError(
            f"Config argument {arg!r} is not valid: data=mnist|fashion_mnist, "
            "steps=<n >= 1>, smoke."
        )
    config = base_config(
        data=args["data"],
        model="conv_vqvae",
        objective="reconstruction",
        likelihood="bernoulli",
        optimizer="adam",
        schedule="cosine",
    )
    config.data.batch_size = 128
    config.data.eval_batch_size = 1000
    config.data.validation_fraction = 0.1
    # Two stride-2 conv stages (28 -> 14 -> 7), sub-pixel upsampling (fast on CPU).
    config.model.channels = (32, 64)
    config.model.activation = "relu"
    config.model.upsample = "subpixel"
    config.model.quantizer = quantizer
    config.model.code_dim = code_dim
    config.model.latent_dim = NUM_VECTORS * code_dim
    config.model.update(fields)
    config.optimizer.learning_rate = 1e-3
    config.optimizer.end_lr_factor = 0.05
    config.train.num_steps = args["steps"]
    config.train.log_every = 100
    config.train.eval_every = 500
    config.train.checkpoint_every = 500
    config.train.steps_per_call = 10
    config.train.best_metric = "eval/mse"
    config.evals = {"reconstruction": {}, "codebook": {}, "cost": {}}
    if smoke:
        make_smoke(config, num_steps=10)
        config.data.eval_batch_size = 128
        config.train.eval_examples = 128
    return config
