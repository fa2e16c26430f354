r"""Makes the README's figure grid from a trained MNIST VAE work directory.

  python experiments/train.py \
      --config=configs/iwae_table1/mlp_1layer.py:objective=vae,k=1,budget=20min \
      --workdir=runs/iwae_table1/mlp_1layer_vae_k1_20min
  python docs/make_figures.py --vae_workdir=runs/iwae_table1/mlp_1layer_vae_k1_20min

Writes into docs/figures/: reconstructions.png (test inputs over their reconstructions,
the training loop's last grid), samples.png, interpolations.png and traversals.png (the
`generation` evaluator, run on a copy of the work directory so its results.json is left
alone). The sweep plot next to them is written by `experiments/sweep.py --report`
(README, "Sweeps").

  python docs/make_figures.py --dsprites_workdir=runs/dsprites_beta_tcvae

Writes docs/figures/dsprites_traversals.png (the tutorial's disentanglement section):
the `disentanglement` evaluator's traversal grids of an evaluated dSprites run, one row
of each dimension's grid (its first example) per code dimension, under a title with
the run's scores read from its results.json.

  python docs/make_figures.py --compare_output=vqgan_reconstructions.png \
      --compare="no adversarial term=runs/fashion_mnist_vqgan_adversarial-0" \
      --compare="weight 0.15=runs/fashion_mnist_vqgan_weight-0.15" \
      --compare="weight 0.3=runs/fashion_mnist_vqgan_weight-0.3" \
      --compare="weight 0.5 (default)=runs/fashion_mnist_vqgan"

Writes docs/figures/<compare_output>: the same held-out images reconstructed by each
run, one row per run (docs/compared_reconstructions.py).
"""

import glob
import os
import shutil
import sys
import tempfile

from absl import app, flags

from aelab.evaluation import evaluate_run

# compared_reconstructions.py and dsprites_figure.py sit next to this file (and define no
# flags, so tests load them).
_DOCS = os.path.dirname(os.path.abspath(__file__))
if _DOCS not in sys.path:
    sys.path.insert(0, _DOCS)

from compared_reconstructions import (  # noqa: E402
    compared_reconstructions,
    last_reconstruction_grid,
)
from dsprites_figure import dsprites_traversals  # noqa: E402

_VAE_WORKDIR = flags.DEFINE_string("vae_workdir", None, "A trained MNIST VAE work directory.")
_DSPRITES_WORKDIR = flags.DEFINE_string(
    "dsprites_workdir", None, "An evaluated dSprites run (the `disentanglement` evaluator)."
)
_COMPARE = flags.DEFINE_multi_string(
    "compare", [], "label=workdir of a run whose reconstructions to compare (repeatable)."
)
_COMPARE_OUTPUT = flags.DEFINE_string(
    "compare_output", "compared_reconstructions.png", "File name of the --compare figure."
)
_OUTPUT = flags.DEFINE_string(
    "output", os.path.join(os.path.dirname(os.path.abspath(__file__)), "figures"), "Output dir."
)
GENERATION_PLOTS = ("samples.png", "interpolations.png", "traversals.png")


def make_figures(vae_workdir: str, output: str) -> list[str]:
    """Writes the figure grid's PNGs into `output`; returns their paths."""
    os.makedirs(output, exist_ok=True)
    written = [
        shutil.copyfile(last_reconstruction_grid(vae_workdir), f"{output}/reconstructions.png")
    ]
    with tempfile.TemporaryDirectory() as tmp:
        copy = shutil.copytree(vae_workdir, os.path.join(tmp, "run"))
        evaluate_run(copy, evals=["generation"])
        for name in GENERATION_PLOTS:
            (plot,) = glob.glob(os.path.join(copy, "evaluation", "*", name))
            written.append(shutil.copyfile(plot, os.path.join(output, name)))
    return written


def main(argv):
    del argv
    if not (_VAE_WORKDIR.value or _DSPRITES_WORKDIR.value or _COMPARE.value):
        raise app.UsageError("Give --vae_workdir, --dsprites_workdir or --compare.")
    if _VAE_WORKDIR.value:
        for path in make_figures(_VAE_WORKDIR.value, _OUTPUT.value):
            print(f"Wrote {path}")
    if _DSPRITES_WORKDIR.value:
        print(f"Wrote {dsprites_traversals(_DSPRITES_WORKDIR.value, _OUTPUT.value)}")
    if _COMPARE.value:
        runs = []
        for item in _COMPARE.value:
            label, sep, workdir = item.rpartition("=")
            if not sep or not label:
                raise app.UsageError(f"--compare={item!r}: write label=workdir.")
            runs.append((label, workdir))
        path = os.path.join(_OUTPUT.value, _COMPARE_OUTPUT.value)
        print(f"Wrote {compared_reconstructions(runs, path)}")


if __name__ == "__main__":
    app.run(main)
