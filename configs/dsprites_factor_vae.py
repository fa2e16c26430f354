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
accelerator), `model=dense|conv` (dense on `cpu`, conv on `full` by default), `smoke`;
e.g. `:gamma=10,seed=3`.

Model: the VAE of configs/_dsprites_vae.py (an MLP 4096-512-512-10 on the CPU budget,
the conv VAE of Locatello et al. with `budget=full`), batch 64; Adam 5e-4 for the VAE on
the CPU budget's 6,000 steps (the paper's 1e-4 with `budget=full`), the paper's Adam
1e-4 (b1 0.5, b2 0.9) for the discriminator, an MLP of 6 x 1000 leaky-ReLU units. The
discriminator sees the batch's posterior samples against the same samples permuted
dimension by dimension (the paper permutes a second half-batch; see
aelab/objectives/factor_vae.py).

Result (measured 2026-12-06 with the three other objectives, see
configs/dsprites_beta_tcvae.py; a 2-core AMD EPYC shared with one other run): seeds 0,
1 and 2, 6,000 steps each in 12-13 min of wall time (the 6 x 1000 discriminator costs
more than the VAE: 9 steps/s against the others' 20-29), checkpoints chosen on
validation loss (steps 4,000, 6,000 and 6,000, at 7.4, 11.4 and 11.7 min of training).
Medians [min, max] over the seeds: MIG 0.066 [0.065, 0.084], FactorVAE score 0.616
[0.608, 0.638], BetaVAE score 0.828 [0.802, 0.844], DCI disentanglement 0.215 [0.212,
0.236], 8 [5, 9] active units: the highest medians of the four objectives on MIG, the
FactorVAE score and DCI, but with ranges that overlap those of the beta-VAE and the
beta-TC-VAE on all three (above DIP-VAE-I's on MIG and DCI); docs/results.md has the
table. Seed 0's test reconstruction: MSE 0.00602, PSNR 22.7 dB. The objective, its
two-optimizer step and this config are tested (tests/objectives/test_factor_vae.py,
tests/training/test_adversarial_step.py; the smoke variant trains and checkpoints).
"""

from aelab.config import parse_config_arg
from aelab.configs._dsprites_vae import DATA_SETS, MODELS, STEPS, dsprites_vae_config

DEFAULTS = {"gamma": 35.0, "seed": 0, "data": "dsprites", "budget": "cpu", "model": ""}


def get_config(arg: str | None = None):
    words = [w for w in (arg or "").split(",") if w]
    smoke = "smoke" in words
    args = parse_config_arg(",".join(w for w in words if w != "smoke"), DEFAULTS)
    if (
        args["data"] not in DATA_SETS
        or args["budget"] not in STEPS
        or args["model"] not in ("", *MODELS)
    ):
        raise ValueError(
            f"Config argument {arg!r} is not valid: gamma=<float>, seed=<n>, "
            "data=dsprites|dsprites_small, budget=cpu|full, model=dense|conv, smoke."
        )
    config = dsprites_vae_config(
        "factor_vae",
        data=args["data"],
        seed=args["seed"],
        budget=args["budget"],
        smoke=smoke,
        model=args["model"],
    )
    config.objective.gamma = float(args["gamma"])
    config.objective.discriminator_depth = 6
    # The paper's 6 x 1000 discriminator; a smoke run's 6 x 64 takes the same paths
    # (with 1000 units its 10 steps took minutes of CPU).
    config.objective.discriminator_width = 64 if smoke else 1000

    # The paper's 1e-4 for its 300,000 steps; the CPU budget's 10,000 steps take the
    # 5e-4 of the other dSprites objectives (configs/dsprites_beta_tcvae.py).
    config.optimizer.learning_rate = 1e-4 if args["budget"] == "full" else 5e-4
    config.optimizer.discriminator.learning_rate = 1e-4
    config.optimizer.discriminator.b1 = 0.5
    config.optimizer.discriminator.b2 = 0.9
    return config
