r"""Sweep: the lambda ladder of the learned codec (configs/mnist_codec.py), one run per
lambda, so that its rate-distortion curve can be set against the classic codecs'.

  python experiments/sweep.py --sweep=configs/sweeps/mnist_codec_ladder.py \
      --sweep_dir=runs/mnist_codec_ladder --workers=2
  python experiments/codec.py report --sweep_dir=runs/mnist_codec_ladder \
      --output=runs/mnist_codec_ladder/rd

The argument is passed on to the config (e.g. `:data=fashion_mnist`,
`:model=scale_hyperprior`); `smoke` runs two lambdas of a few steps. Every lambda is a
grid point, each trial keeps its best checkpoint by the validation loss R + lambda D, and
`report` evaluates each trial's best checkpoint on the test split (the same images for
every lambda and every classic codec).

Result: see configs/mnist_codec.py and docs/results.md.
"""

import os

from aelab.sweeps import Choice, Sweep

MNIST_CODEC = os.path.join(os.path.dirname(__file__), os.pardir, "mnist_codec.py")
# The CPU budget's ladder. Measured (MNIST, 12,000 steps): lambda 0.002 gives 25.6 dB at
# 199 bits per digit, 0.005 only 26.0 dB at 243 bits, 0.01 ... : on 20 CPU minutes the
# dense model's distortion saturates, so the ladder spends its points on the low rates.
LADDER = (0.0005, 0.001, 0.002, 0.005, 0.01)


def get_sweep(arg: str | None = None) -> Sweep:
    words = [w for w in (arg or "").split(",") if w]
    smoke = "smoke" in words
    overrides = {"mesh.num_devices": 1} if smoke else {}
    return Sweep(
        config_file=MNIST_CODEC,
        config_arg=",".join(words) or None,
        overrides=overrides,
        space={"objective.lmbda": Choice(list(LADDER[1:3] if smoke else LADDER))},
        metric="eval/loss",
        direction="minimize",
        value="best",
        num_trials=None,
        sampler="grid",
    )
