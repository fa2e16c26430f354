r"""Writes docs/models.md: every registered model and every config, with measured results.

  python docs/make_models_table.py --runs=runs/models --runs=runs

A config is a file directly under configs/, or each variant of a file that holds
several experiments (its `VARIANTS`), named `<file>:<variant>` as in
`--config=configs/<file>.py:<variant>`. Parameter counts are exact: each config's model
is built abstractly (shapes only, no training). A result comes only from a finished or
stopped run's files under one of the --runs directories (`<runs>/<run name>/`, the
config's name with the colon of a variant as an underscore: `runs/models/mnist_dense_vae`):
the `reconstruction` evaluator's test metrics in results.json (`python
experiments/evaluate.py --workdir=... --evals=reconstruction,cost`) and its step and
training time. A config whose run is not under --runs keeps the result its row has in
the models.md being rewritten (run directories are not committed; --keep_previous=false
drops them), matched by what the config is (model, objective, data and parameter count)
so that renaming a config file or variant keeps it; else it says "not measured".
"""

import collections
import dataclasses
import functools
import glob
import importlib.util
import json
import math
import os
import sys

import jax
from absl import app, flags

from aelab.evaluation.loading import abstract_train_state
from aelab.models import list_models
from aelab.training.experiment import build_run_spec
from aelab.training.saved_config import CONFIG_FILE, read_config

DOCS = os.path.dirname(os.path.abspath(__file__))
# kept_model_results.py and run_endings.py sit next to this file (and define no flags, so
# tests load them).
if DOCS not in sys.path:
    sys.path.insert(0, DOCS)
from kept_model_results import kept_result, previous_results  # noqa: E402
from run_endings import budget_note  # noqa: E402

REPO = os.path.dirname(DOCS)
_RUNS = flags.DEFINE_multi_string("runs", ["runs"], "Directories holding <config>/ work dirs.")
_OUTPUT = flags.DEFINE_string("output", os.path.join(DOCS, "models.md"), "Output file.")
_KEEP_PREVIOUS = flags.DEFINE_bool(
    "keep_previous", True, "Keep the results of the existing --output for runs not under --runs."
)


@dataclasses.dataclass(frozen=True)
class ModelFacts:
    family: str
    paper: str
    tests: str


TEST_EVERY_MODEL = "tests/models/test_every_model.py[{name}]"
PAPERS = {
    "ae": "Hinton & Salakhutdinov 2006",
    "vae": "Kingma & Welling 2014; Rezende et al. 2014",
    "resnet": "He et al. 2016 (pre-activation blocks)",
    "vit": "Dosovitskiy et al. 2021 (ViT)",
    "rnn": "Srivastava et al. 2015 (LSTM autoencoders)",
    "vq": "van den Oord et al. 2017 (VQ-VAE)",
    "2layer": "Burda et al. 2016 (IWAE, two stochastic layers)",
    "ladder": "Sønderby et al. 2016 (Ladder VAE); Vahdat & Kautz 2020 (NVAE)",
    "factorized": "Ballé et al. 2017 (factorized prior)",
    "hyperprior": "Ballé et al. 2018 (scale hyperprior)",
    "classifier": "LeCun et al. 1998 (a small convnet); its features: Heusel et al. 2017 (FID)",
    "ldm": "Rombach et al. 2022 (latent diffusion's KL autoencoder)",
}
CONDITIONAL = "; Sohn et al. 2015 (conditional VAE: config.model.conditioning)"
MODELS = {
    "dense_ae": ModelFacts(
        "dense",
        PAPERS["ae"] + CONDITIONAL,
        "test_variants.py (sparse, contractive), test_conditional.py",
    ),
    "dense_vae": ModelFacts(
        "dense",
        PAPERS["vae"] + CONDITIONAL,
        "test_math.py, test_variants.py (IWAE), test_priors_and_flows.py (MoG, VampPrior, IAF), "
        "test_conditional.py",
    ),
    "dense_2layer_vae": ModelFacts(
        "dense", PAPERS["2layer"], "test_variants.py::test_two_layer_kl_terms_match_its_log_weights"
    ),
    "dense_vqvae": ModelFacts("dense", PAPERS["vq"], "test_model_parts.py (VQ)"),
    "dense_ladder_vae": ModelFacts("dense", PAPERS["ladder"], "test_ladder_vae.py"),
    "conv_ladder_vae": ModelFacts("conv", PAPERS["ladder"], "test_ladder_vae.py"),
    "conv_ae": ModelFacts(
        "conv",
        PAPERS["ae"] + CONDITIONAL,
        "test_convolutions.py, test_variants.py (MMD), test_conditional.py",
    ),
    "conv_vae": ModelFacts(
        "conv",
        PAPERS["vae"] + CONDITIONAL,
        "test_variants.py (discretised logistic), test_conditional.py",
    ),
    "conv_classifier": ModelFacts(
        "conv (classifier, not an autoencoder)",
        PAPERS["classifier"],
        "tests/evaluation/test_feature_distance.py, tests/evaluation/test_frechet.py",
    ),
    "conv_vqvae": ModelFacts("conv", PAPERS["vq"], "test_model_parts.py (VQ)"),
    "resnet_ae": ModelFacts(
        "residual", PAPERS["resnet"], "test_model_parts.py::test_norms_by_name"
    ),
    "resnet_vae": ModelFacts(
        "residual", PAPERS["resnet"], "test_model_parts.py::test_norms_by_name"
    ),
    "vit_ae": ModelFacts("attention", PAPERS["vit"], "test_model_parts.py (patches)"),
    "vit_vae": ModelFacts("attention", PAPERS["vit"], "test_model_parts.py (patches)"),
    "resnet_vqvae": ModelFacts("residual", PAPERS["vq"], "test_quantizers.py (FSQ, RVQ, LFQ)"),
    "vit_vqvae": ModelFacts("attention", PAPERS["vq"], "test_quantizers.py (FSQ, RVQ, LFQ)"),
    "lstm_ae": ModelFacts("recurrent", PAPERS["rnn"], "test_model_parts.py (teacher forcing)"),
    "lstm_vae": ModelFacts("recurrent", PAPERS["rnn"], "test_model_parts.py (teacher forcing)"),
    "gru_ae": ModelFacts("recurrent", PAPERS["rnn"], "test_model_parts.py (teacher forcing)"),
    "gru_vae": ModelFacts("recurrent", PAPERS["rnn"], "test_model_parts.py (teacher forcing)"),
    "spatial_vae": ModelFacts(
        "residual", PAPERS["ldm"], "tests/objectives/test_kl_autoencoder.py (spatial code, KL)"
    ),
    "factorized_prior": ModelFacts(
        "codec (dense, conv, residual)",
        PAPERS["factorized"],
        "tests/codec/ (bit-exact round trip), tests/objectives/test_rate_distortion.py",
    ),
    "scale_hyperprior": ModelFacts(
        "codec (dense, conv, residual)",
        PAPERS["hyperprior"],
        "tests/codec/ (bit-exact round trip); `configs/mnist_codec.py:model=scale_hyperprior`",
    ),
}


@functools.cache
def config_module(file: str):
    """The module of configs/<file>.py."""
    path = os.path.join(REPO, "configs", f"{file}.py")
    spec = importlib.util.spec_from_file_location(f"config_module_{file}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def config_names() -> list[str]:
    """Experiment configs directly under configs/ (sweeps, protocol folders and shared
    `_*.py` modules excluded):
    a file's name, or `<file>:<variant>` for each variant of a file that has `VARIANTS`."""
    names = []
    for path in sorted(glob.glob(os.path.join(REPO, "configs", "*.py"))):
        file = os.path.splitext(os.path.basename(path))[0]
        if file.startswith("_"):  # a module the configs share, not an experiment
            continue
        variants = getattr(config_module(file), "VARIANTS", None)
        names += [f"{file}:{variant}" for variant in variants] if variants else [file]
    return names


def load_config(name: str):
    """The config `name` (`<file>` or `<file>:<variant>`) names."""
    file, _, variant = name.partition(":")
    return config_module(file).get_config(variant) if variant else config_module(file).get_config()


def parameter_count(config) -> int:
    """Trainable parameters of the config's model, from shapes alone."""
    _, state = abstract_train_state(config, build_run_spec(config))
    return sum(math.prod(leaf.shape) for leaf in jax.tree.leaves(state.params))


def measured(name: str, num_steps: int, runs: list[str], time_limit_minutes=None) -> str:
    """The result cell for config `name`, from the first run directory that has one."""
    run_name = name.replace(":", "_")
    for root in runs:
        results_path = os.path.join(root, run_name, "results.json")
        if not os.path.exists(results_path):
            continue
        with open(results_path) as f:
            results = json.load(f)
        metrics = results.get("metrics", {})
        if "reconstruction/mse" not in metrics and "pca/model_mse" in metrics:
            # The PCA-baseline evaluator measures the model on the same test split.
            metrics = {
                "reconstruction/mse": metrics["pca/model_mse"],
                "reconstruction/psnr": metrics["pca/model_psnr"],
            }
        if "reconstruction/mse" not in metrics and "classification/accuracy" not in metrics:
            continue
        step = int(results.get("step", metrics.get("cost/step", 0)))
        info_path = os.path.join(root, run_name, "run_info.json")
        info = {}
        if os.path.exists(info_path):
            with open(info_path) as f:
                info = json.load(f)
        final = int(info.get("final_step", step))
        workdir = os.path.join(root, run_name)
        run_limit = time_limit_minutes  # a run without its config.json: the config's word
        if os.path.exists(os.path.join(workdir, CONFIG_FILE)):
            run_limit = read_config(workdir).train.get("time_limit_minutes")
        budget = budget_note(info, final, num_steps, time_limit_minutes, run_limit)
        seconds = results.get("train_seconds")
        wall = "" if seconds is None else f", {seconds:.0f} s of training"
        where = f"(checkpoint at step {step:,}{wall}{budget})"
        if "reconstruction/mse" not in metrics:  # a classifier
            return f"test accuracy {100 * metrics['classification/accuracy']:.2f}% {where}"
        return (
            f"test MSE {metrics['reconstruction/mse']:.4g}, PSNR "
            f"{metrics['reconstruction/psnr']:.1f} dB {where}"
        )
    return "not measured"


def render(runs: list[str], previous: dict[tuple[str, ...], str | None] | None = None) -> str:
    """The whole models.md; `previous` (`previous_results`) supplies the results of
    configs whose runs are not under `runs`."""
    configs_of = {name: [] for name in list_models()}
    described = {}  # config name -> (config, its model, objective, data and parameter cells)
    for name in config_names():
        config = load_config(name)
        configs_of.setdefault(config.model.name, []).append(name)
        cells = (
            f"`{config.model.name}`",
            config.objective.name,
            config.data.name,
            f"{parameter_count(config):,}",
        )
        described[name] = (config, cells)
    counts = collections.Counter(cells for _, cells in described.values())
    rows = []
    for name, (config, cells) in described.items():
        result = measured(
            name, config.train.num_steps, runs, config.train.get("time_limit_minutes")
        )
        file, colon, variant = name.partition(":")
        label = f"`configs/{file}.py{colon}{variant}`"
        if result == "not measured":
            kept = kept_result(previous or {}, label, cells, counts[cells] == 1)
            result = kept or result
        rows.append(f"| {label} | {' | '.join(cells)} | {result} |")
    lines = [
        "# Models",
        "",
        "Generated by `python docs/make_models_table.py --runs=runs/models --runs=runs`; do",
        "not edit by hand. Parameter counts are exact (trainable parameters of each config's",
        "model). Results are the `reconstruction` evaluator's test MSE per value and PSNR",
        "(`experiments/evaluate.py --evals=reconstruction,cost`) on the checkpoint a run",
        "reached; most runs are short CPU budgets on a 2-core CPU shared with other jobs",
        "(the step count says how short), so they show that each model trains, not how",
        "well it can do. Longer, protocol-level numbers are in docs/results.md and in each",
        "config's docstring. A result whose run is not where this file was generated is",
        "kept from the file it replaced. A config file that holds several experiments has a",
        "row per variant (`configs/<file>.py:<variant>`, the `--config` argument that runs",
        "it; its runs' work directories are named `<file>_<variant>`).",
        "",
        "## Registered models",
        "",
        '`python -c "import aelab.models as m; print(m.list_models())"`',
        "",
        "| model | family | paper | configs | tests |",
        "|---|---|---|---|---|",
    ]
    for model in list_models():
        facts = MODELS.get(model, ModelFacts("?", "?", ""))
        configs = ", ".join(f"`{c}`" for c in configs_of.get(model, [])) or "none"
        tests = TEST_EVERY_MODEL.format(name=model) + (f"; {facts.tests}" if facts.tests else "")
        lines.append(f"| `{model}` | {facts.family} | {facts.paper} | {configs} | {tests} |")
    lines += [
        "",
        "Every model also passes `tests/configs/test_every_config.py` through its configs",
        "(the smoke variant trains and checkpoints).",
        "",
        "## Configs",
        "",
        "| config | model | objective | data | parameters | result |",
        "|---|---|---|---|---|---|",
        *rows,
    ]
    return "\n".join(lines) + "\n"


def main(argv):
    del argv
    text = render(_RUNS.value, previous_results(_OUTPUT.value if _KEEP_PREVIOUS.value else None))
    with open(_OUTPUT.value, "w") as f:
        f.write(text)
    print(f"Wrote {_OUTPUT.value}")


if __name__ == "__main__":
    app.run(main)
