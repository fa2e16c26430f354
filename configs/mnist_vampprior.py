r"""The VampPrior against a mixture-of-Gaussians prior and the standard N(0, I) prior
(Tomczak & Welling, 2018), on the same dense VAE, data and budget.

Dynamically binarised MNIST; a dense VAE 784-300-300-40 (ReLU; the paper's sizes, with
plain layers instead of its gated ones), Bernoulli decoder; the ELBO with the KL
estimated from the posterior sample for the mixture priors (analytic for the standard
one); Adam at 5e-4 (the paper's rate), batch 100, for 8 minutes of training
(train.time_limit_minutes; a VampPrior step also encodes its 500 pseudo-inputs, so it
runs fewer steps in the same time). 10,000 of the 60,000 training images (a fixed random
sixth) are the validation split that selects the checkpoint (`eval/loss`); the test NLL
is importance-sampled (`evals.likelihood`, k samples per test image).

The argument names the prior (there is no default); append ",smoke" for a 10-step run.

standard: p(z) = N(0, I).

  python experiments/train.py --config=configs/mnist_vampprior.py:standard \
      --workdir=runs/mnist_vampprior_standard
  python experiments/evaluate.py --workdir=runs/mnist_vampprior_standard

Result (measured 2026-12-02, commit 7100933, 2-core AMD EPYC shared with other jobs):
a shortened budget, not this config's protocol: `--config.train.time_limit_minutes=3
--config.evals.likelihood.num_samples=100`, work directory under /tmp, then
`python experiments/evaluate.py --workdir=<run> --evals=likelihood
--option=likelihood.num_samples=100` (validation-selected checkpoint, all 10,000 test
images, k = 100, not 5,000): 9,050 steps in 187 s of training (244 s wall): test NLL
95.40 +- 0.25 nats (ELBO -100.52, KL 26.1, 25 active units); evaluation 42 s.

mog: a mixture of K = 500 learned diagonal Gaussians (means from N(0, I), unit
variances at the start), uniform weights.

  python experiments/train.py --config=configs/mnist_vampprior.py:mog \
      --workdir=runs/mnist_vampprior_mog

Result (measured): not measured yet.

vamp: the VampPrior over K = 500 learned pseudo-inputs (initialised at 0.5 plus
N(0, 0.1^2) noise, not clipped to [0, 1]), uniform weights.

  python experiments/train.py --config=configs/mnist_vampprior.py:vamp \
      --workdir=runs/mnist_vampprior_vamp
  python experiments/evaluate.py --workdir=runs/mnist_vampprior_vamp

Result (measured 2026-12-02, commit 7100933, 2-core AMD EPYC shared with other jobs):
a shortened budget, not this config's protocol: `--config.train.time_limit_minutes=3
--config.evals.likelihood.num_samples=100`, work directory under /tmp, then
`python experiments/evaluate.py --workdir=<run> --evals=likelihood
--option=likelihood.num_samples=100` (validation-selected checkpoint, all 10,000 test
images, k = 100, not 5,000): 1,550 steps in 214 s of training (271 s wall; each step
also encodes the 500 pseudo-inputs, about 6x the cost of a standard-prior step here):
test NLL 109.56 +- 0.32 nats (ELBO -115.71, KL 17.8, 40 active units); evaluation 84 s.
At this equal time
budget the VampPrior is far behind (6x fewer steps); the paper's comparison is at
convergence, which these minutes do not reach.
"""

from aelab.configs._binarized_mnist_vae import binarized_mnist_vae_config

VARIANTS = ("standard", "mog", "vamp")
NUM_COMPONENTS = 500


def get_config(arg: str | None = None):
    variant, _, smoke = (arg or "").partition(",")
    if variant not in VARIANTS or smoke not in ("", "smoke"):
        raise ValueError(
            f"Config argument {arg!r} is not valid: name the prior, one of "
            f"{', '.join(VARIANTS)} (e.g. --config=configs/mnist_vampprior.py:vamp, or "
            ":vamp,smoke for its smoke version)."
        )
    config = binarized_mnist_vae_config(smoke=bool(smoke))
    config.model.prior = variant
    config.model.prior_components = NUM_COMPONENTS
    return config
