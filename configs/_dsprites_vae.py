"""The set-up shared by the dSprites disentanglement configs (configs/dsprites_beta_tcvae.py,
configs/dsprites_factor_vae.py), so they differ only in the objective: the conv VAE of
Locatello et al. (2019) (four 4x4 conv stages of 32, 32, 64, 64 channels, 10 latents),
Bernoulli decoder, Adam, batch 64, a budget of 15,000 steps on a CPU (`budget=full`:
300,000, the literature's), checkpoints chosen by validation loss, and the
`disentanglement` evaluator.

Not an experiment config itself (its name starts with "_").
"""

from aelab.config import base_config, make_smoke

STEPS = {"cpu": 15_000, "full": 300_000}
DATA_SETS = ("dsprites", "dsprites_small")


def dsprites_vae_config(objective: str, *, data: str, seed: int, budget: str, smoke: bool):
    """The shared config with `objective` (a registered name) on `data`; `smoke` makes
    it a 10-step run on small batches (the same code paths)."""
    config = base_config(
        data=data,
        model="conv_vae",
        objective=objective,
        likelihood="bernoulli",
        optimizer="adam",
        schedule="constant",
    )
    config.seed = seed
    config.data.batch_size = 64
    config.data.eval_batch_size = 512

    config.model.channels = (32, 32, 64, 64)
    config.model.kernel_size = 4
    config.model.latent_dim = 10

    config.train.num_steps = STEPS[budget]
    config.train.log_every = 500
    config.train.eval_every = 2_500
    config.train.checkpoint_every = 2_500
    config.train.steps_per_call = 10
    config.train.best_metric = "eval/loss"
    config.evals = {"disentanglement": {}}
    if smoke:
        make_smoke(config, num_steps=10)
        # A smoke run only exercises the experiment's code: at 64 x 64 pixels, batch 64
        # made its 10 steps most of a minute of CPU; 16 and several eval batches (one
        # partial) take the same paths.
        config.data.batch_size = 16
        config.data.eval_batch_size = 128
        config.evals.disentanglement.fit_examples = 500
    return config
