"""The set-up shared by the dSprites disentanglement configs (configs/dsprites_beta_tcvae.py,
configs/dsprites_factor_vae.py), so they differ only in the objective.

Two architectures, both with a 10-d Gaussian code and Bernoulli pixels, batch 64, Adam,
checkpoints chosen by validation loss (the default 10% validation part carved from
the training split), and the `disentanglement` evaluator (with `reconstruction` and
`cost`) on the held-out 10% test images:

- `dense` (the CPU default): an MLP encoder 4096-512-512-10 and its mirror, the MLP of
  Chen et al. (2018)'s dSprites experiments narrowed from 1200 to 512 units for a
  2-core CPU; 6,000 steps (384,000 images, 0.64 of an epoch of the ~597,000 training
  images). It trained at 20 steps/s on a 2-core EPYC shared with another run.
- `conv` (the `budget=full` default): the conv VAE of Locatello et al. (2019), four 4x4
  stride-2 stages of 32, 32, 64, 64 channels and a decoder whose last transposed stage
  outputs the image (`output_conv=False`); 300,000 steps, the literature's, for an
  accelerator. On the same shared 2-core EPYC its gradient step on a batch took 0.34 s
  (1.0 s with an output convolution after a 32-channel 64x64 stage, 4.1 s with that and
  plain transposed convolutions, what this config ran before): too slow for a CPU
  budget.

Not an experiment config itself (its name starts with "_").
"""

from aelab.config import base_config, make_smoke

STEPS = {"cpu": 6_000, "full": 300_000}
DATA_SETS = ("dsprites", "dsprites_small")
MODELS = ("dense", "conv")
DEFAULT_MODEL = {"cpu": "dense", "full": "conv"}


def dsprites_vae_config(
    objective: str, *, data: str, seed: int, budget: str, smoke: bool, model: str = ""
):
    """The shared config with `objective` (a registered name) on `data` with `model`
    ("dense" or "conv"; "" for the budget's default); `smoke` makes it a 10-step run on
    small batches (the same code paths)."""
    model = model or DEFAULT_MODEL[budget]
    config = base_config(
        data=data,
        model=f"{model}_vae",
        objective=objective,
        likelihood="bernoulli",
        optimizer="adam",
        schedule="constant",
    )
    config.seed = seed
    config.data.batch_size = 64
    config.data.eval_batch_size = 512

    if model == "conv":
        config.model.channels = (32, 32, 64, 64)
        config.model.kernel_size = 4
        config.model.upsample = "subpixel"  # the transposed convs' function, faster on CPU
        config.model.output_conv = False
    else:
        config.model.hidden_dims = (512, 512)
    config.model.latent_dim = 10

    config.train.num_steps = STEPS[budget]
    config.train.log_every = 500
    config.train.eval_every = 2_000 if budget == "cpu" else 10_000
    config.train.checkpoint_every = config.train.eval_every
    config.train.steps_per_call = 10
    config.train.best_metric = "eval/loss"
    config.evals = {"disentanglement": {}, "reconstruction": {}, "cost": {}}
    if smoke:
        make_smoke(config, num_steps=10)
        # A smoke run only exercises the experiment's code: at 64 x 64 pixels, batch 64
        # made the conv model's 10 steps most of a minute of CPU; 16 and several eval
        # batches (one partial) take the same paths.
        config.data.batch_size = 16
        config.data.eval_batch_size = 128
        config.evals.disentanglement.fit_examples = 500
    return config
