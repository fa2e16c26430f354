"""Evaluation: what autoencoders are for, measured on a trained run.

One module per evaluator, all registered by name (`list_evaluators()`) and listed in a
config's `config.evals` ({name: options}):

  likelihood      importance-sampled NLL (k up to thousands), ELBO, bits/dim, active units
  reconstruction  MSE, PSNR, SSIM, per-class MSE
  compression     quantized code rate vs raw, zlib and PNG; quality at that rate
                  (an entropy estimate; the learned codecs are measured by rate_distortion)
  rate_distortion a learned codec's real files vs JPEG, WebP, JPEG XL and AVIF
  pca             PCA with the same code size, error side by side
  linear_probe    logistic regression on codes vs raw inputs vs PCA codes
  anomaly         AUROC and average precision from reconstruction error or NLL
  denoising       PSNR of corrupted inputs vs their reconstructions, per corruption
  imputation      error on missing values filled by the model vs by the mean
  fid             Inception FID (pytorch-fid weights) of reconstructions and samples
                  (docs/fid.md)
  generation      sample grids, interpolations, latent traversals, latent scatter (PNG)
  disentanglement BetaVAE, FactorVAE, MIG, SAP, DCI, modularity, explicitness on data
                  with known factors (dsprites); a traversal grid per code dimension
  cost            parameter count, training time and speed
  codebook        a quantiser's codebook utilisation, perplexity, dead codes, bits

`export(workdir, out)` writes a run as a self-contained model directory (config, data
set description, safetensors weights, model card); `load_trained(path)` loads a work
directory, such a directory or "hf://owner/repo"; `push_to_hub(out, repo_id)` publishes
one (docs/sharing.md).

`evaluate_run("runs/mnist_vae")` writes runs/mnist_vae/results.json.

Command line: `python experiments/evaluate.py --workdir=runs/mnist_vae`.
"""

from aelab.core.discovery import import_submodules
from aelab.evaluation.config_schema import CONFIG_SCHEMA, validate_config
from aelab.evaluation.context import EvalContext, SplitData
from aelab.evaluation.exported import load_exported, load_trained
from aelab.evaluation.exporting import export
from aelab.evaluation.hub import push_to_hub
from aelab.evaluation.loading import TrainedRun, load_run, read_config
from aelab.evaluation.periodic import PeriodicEvaluation, train_and_evaluate
from aelab.evaluation.registry import (
    EVALS_SECTION,
    EVALUATORS,
    Evaluator,
    build_evaluator,
    list_evaluators,
    register_evaluator,
)
from aelab.evaluation.runner import evaluate_run, resolve_evals, run_evaluators

# Every module of this package is imported, so a new evaluator is one new module.
import_submodules(__name__, __path__)

__all__ = [
    "CONFIG_SCHEMA",
    "EVALS_SECTION",
    "EVALUATORS",
    "EvalContext",
    "Evaluator",
    "PeriodicEvaluation",
    "SplitData",
    "TrainedRun",
    "build_evaluator",
    "evaluate_run",
    "export",
    "list_evaluators",
    "load_exported",
    "load_run",
    "load_trained",
    "push_to_hub",
    "read_config",
    "register_evaluator",
    "resolve_evals",
    "run_evaluators",
    "train_and_evaluate",
    "validate_config",
]
