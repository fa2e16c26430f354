"""The tutorial's dSprites traversal figure (docs/make_figures.py --dsprites_workdir):
one row per code dimension of an evaluated run's traversal grids, under its scores."""

import glob
import json
import os

SCORES = (
    ("beta_vae_score", "BetaVAE"),
    ("factor_vae_score", "FactorVAE"),
    ("mig", "MIG"),
    ("sap", "SAP"),
    ("dci_disentanglement", "DCI-D"),
    ("active_units", "active"),
)


def dsprites_traversals(workdir: str, output: str) -> str:
    """Writes `output`/dsprites_traversals.png from the evaluated run `workdir`; returns
    its path.

    Raises:
      FileNotFoundError: the run has no disentanglement results or traversal grids.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results_path = os.path.join(workdir, "results.json")
    results = {}
    if os.path.exists(results_path):
        with open(results_path) as f:
            results = json.load(f)
    metrics = results.get("metrics", {})
    steps = results.get("evals", {}).get("disentanglement", {}).get("traversal_steps", 9)
    grids = sorted(glob.glob(os.path.join(workdir, "evaluation", "*", "traversal_dim_*.png")))
    if "disentanglement/mig" not in metrics or not grids:
        raise FileNotFoundError(
            f"{workdir} has no disentanglement results or traversal grids: run "
            f"`python experiments/evaluate.py --workdir={workdir}` on a dSprites run first."
        )
    step = os.path.basename(os.path.dirname(grids[-1]))
    grids = [g for g in grids if os.path.basename(os.path.dirname(g)) == step]
    rows = [plt.imread(g) for g in grids]
    # A grid holds one row of `steps` square cells per example; keep the first example's.
    height = rows[0].shape[0] // round(rows[0].shape[0] / (rows[0].shape[1] / steps))
    figure, axes = plt.subplots(len(rows), 1, figsize=(6, 0.75 * len(rows) + 0.6), dpi=110)
    for i, (axis, grid) in enumerate(zip(axes, rows, strict=True)):
        axis.imshow(grid[:height], cmap="gray")
        axis.set_xticks([])
        axis.set_yticks([])
        axis.set_ylabel(f"z{i}", rotation=0, labelpad=12, fontsize=8)
    scores = ", ".join(
        f"{label} {metrics[f'disentanglement/{name}']:.3g}"
        for name, label in SCORES
        if f"disentanglement/{name}" in metrics
    )
    figure.suptitle(f"{os.path.basename(workdir.rstrip('/'))} ({step})\n{scores}", fontsize=8)
    figure.tight_layout()
    os.makedirs(output, exist_ok=True)
    path = os.path.join(output, "dsprites_traversals.png")
    figure.savefig(path)
    plt.close(figure)
    return path
