r"""Disentanglement on dSprites with FactorVAE (Kim & Mnih, 2018): the ELBO plus gamma
times a total-correlation estimate from a discriminator on the latent samples, trained
in the same step by its own optimizer. The model, data and budget of
configs/dsprites_beta_tcvae.py, scored by the same `disentanglement` evaluator on the
held-out 10% of the images.

  python experiments/train.py --config=configs/dsprites_factor_vae.py \
      --workdir=runs/dsprites_factor_vae
  python experiments/evaluate.py --workdir=runs/dsprites_factor_vae

Arguments (comma-separated, each optional): `gamma=<float>` (35 by default, the paper's
dSprites value), `seed=<n>`, `data=dsprites|dsprites_small` (2,304 images, for quick
checks), `budget=cpu|full` (`full`: 300,000 steps as in the paper, for an
accelerator), `smoke`; e.g. `:gamma=10,seed=3`.

Model: the conv VAE of the disentanglement literature's size (four stride-2 stages of
32-32-64-64 channels, a 10-d Gaussian code, Bernoulli pixels), batch 64; the paper's
optimizers: Adam 1e-4 (b1 0.9, b2 0.999) for the VAE and Adam 1e-4 (b1 0.5, b2 0.9)
for the discriminator, an MLP of 6 x 1000 leaky-ReLU units. The discriminator sees the
batch's posterior samples against the same samples permuted dimension by dimension (the
paper permutes a second half-batch; see aelab/objectives/factor_vae.py).

Result: not measured yet. The objective, its two-optimizer step and this config are
tested (tests/objectives/test_factor_vae.py, tests/training/test_adversarial_step.py;
the smoke variant trains and checkpoints); the CPU budget's steps are a first estimate,
not a timing.
"""

from aelab.config import base_config, make_smoke, parse_config_arg

DEFAULTS = {"gamma": 35.0, "seed": 0, "data": "dsprites", "budget": "cpu"}
STEPS = {"cpu": 15_000, "full": 300_000}


def get_config(arg: str | None = None):
    words = [w for w in (arg or "").split(",") if w]
    smoke = "smoke" in words
    args = parse_config_arg(",".join(w for w in words if w != "smoke"), DEFAULTS)
    if args["data"] not in ("dsprites", "dsprites_small") or args["budget"] not in STEPS:
        raise ValueError(
            f"Config argument {arg!r} is not valid: gamma=<float>, seed=<n>, "
            "data=dsprites|dsprites_small, budget=cpu|full, smoke."
        )
    config = base_config(
        data=args["data"],
        model="conv_vae",
        objective="factor_vae",
        likelihood="bernoulli",
        optimizer="adam",
        schedule="constant",
    )
    config.seed = args["seed"]
    config.data.batch_size = 64
    config.data.eval_batch_size = 512

    config.model.channels = (32, 32, 64, 64)
    config.model.kernel_size = 4
    config.model.latent_dim = 10

    config.objective.gamma = float(args["gamma"])
    config.objective.discriminator_depth = 6
    config.objective.discriminator_width = 1000

    config.optimizer.learning_rate = 1e-4
    config.optimizer.discriminator.learning_rate = 1e-4
    config.optimizer.discriminator.b1 = 0.5
    config.optimizer.discriminator.b2 = 0.9

    num_steps = STEPS[args["budget"]]
    config.train.num_steps = num_steps
    config.train.log_every = 500
    config.train.eval_every = 2_500
    config.train.checkpoint_every = 2_500
    config.train.steps_per_call = 10
    config.train.best_metric = "eval/loss"
    config.evals = {"disentanglement": {}}
    if smoke:
        make_smoke(config, num_steps=10)
        # A smoke run only exercises the experiment's code: at 64 x 64 pixels, batch 64
        # and the 6 x 1000 discriminator made its 10 steps minutes of CPU; batch 16,
        # several eval batches (one partial) and a 6 x 64 discriminator take the same paths.
        config.data.batch_size = 16
        config.data.eval_batch_size = 128
        config.objective.discriminator_width = 64
        config.evals.disentanglement.fit_examples = 500
    return config
