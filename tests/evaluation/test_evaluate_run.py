"""Evaluating a trained run end to end: loading, every evaluator, results.json, the
command line, and evaluators inside the training loop."""

import json
import os
import subprocess
import sys

import jax
import ml_collections
import numpy as np
import orbax.checkpoint as ocp
import pytest

from aelab.core.registry import UnknownNameError
from aelab.evaluation import (
    build_evaluator,
    evaluate_run,
    list_evaluators,
    load_run,
    train_and_evaluate,
)
from aelab.evaluation.context import EvalContext
from aelab.evaluation.loading import checkpoint_step, list_checkpoint_steps
from aelab.evaluation.runner import resolve_evals
from aelab.training.metric_writer import read_metrics
from tests.conftest import REPO, load_config

# Small but complete options for every evaluator on the digits data set.
FAST_EVALS = {
    "likelihood": {"num_samples": 20, "max_examples": 100},
    "reconstruction": {},
    "compression": {"bits": 6, "fit_examples": 500},
    "pca": {"fit_examples": 500},
    "linear_probe": {"fit_examples": 500, "max_examples": 200},
    "anomaly": {"normal_labels": (0,), "max_examples": 200},
    "denoising": {"max_examples": 100},
    "imputation": {"iterations": 3, "fit_examples": 500},
    "generation": {"num_samples": 16, "scatter_examples": 200},
    "cost": {},
    "objective": {},
}


def _tiny_config():
    config = load_config("quickstart", "smoke")
    config.mesh.num_devices = 1
    config.model.hidden_dims = (32,)
    config.model.latent_dim = 4
    config.data.batch_size = 16
    config.data.eval_batch_size = 120
    config.train.num_steps = 8
    config.train.log_every = 4
    config.train.eval_every = 4
    config.train.checkpoint_every = 4
    config.train.steps_per_call = 2
    config.train.keep_checkpoints = 3
    return config


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("run"))
    train_and_evaluate(_tiny_config(), path)
    return path


# Evaluators that need another kind of model than this VAE, and where they are tested.
TESTED_ELSEWHERE = {
    "rate_distortion": "tests/evaluation/test_rate_distortion.py (a learned codec)",
    "disentanglement": "tests/evaluation/test_disentanglement.py (data with known factors)",
    "codebook": "tests/evaluation/test_codebook.py (a quantised model)",
    "classification": "tests/evaluation/test_feature_distance.py (a classifier run)",
    "feature_distance": "tests/evaluation/test_feature_distance.py (with a classifier run)",
    "conditional_generation": "tests/evaluation/test_feature_distance.py (a conditional VAE)",
    "fid": "tests/evaluation/test_fid.py (a weights file the test writes)",
}


def test_every_evaluator_is_exercised():
    assert sorted([*FAST_EVALS, *TESTED_ELSEWHERE]) == list_evaluators()


def test_reading_a_run_leaves_a_save_in_progress_alone(workdir):
    # A live run's asynchronous save sits in a temporary directory until it is
    # finalised; evaluating or exporting the run meanwhile must not clean it up.
    pending = os.path.join(workdir, "checkpoints", "12.orbax-checkpoint-tmp-1234567")
    os.makedirs(pending)
    try:
        assert list_checkpoint_steps(workdir)[-1] == 8
        assert checkpoint_step(workdir, "latest") == 8
        assert load_run(workdir, step="latest").step == 8
        assert os.path.isdir(pending)
    finally:
        if os.path.isdir(pending):
            os.rmdir(pending)


def test_load_run_restores_the_checkpointed_weights(workdir):
    run = load_run(workdir, step="latest")
    assert run.step == 8 and run.train_seconds > 0
    manager = ocp.CheckpointManager(os.path.join(workdir, "checkpoints"), item_names=("state",))
    saved = manager.restore(8, args=ocp.args.Composite(state=ocp.args.StandardRestore()))
    manager.close()
    # A restore without a target has string keys for list indices; leaves come in one order.
    restored, expected = jax.tree.leaves(run.params), jax.tree.leaves(saved["state"]["params"])
    assert len(restored) == len(expected) == 8  # 2 layers x (kernel, bias) x 2
    for a, b in zip(restored, expected, strict=True):
        np.testing.assert_array_equal(a, b)
    assert load_run(workdir, step=4).step == 4


def test_bad_steps_and_workdirs_are_explained(workdir, tmp_path):
    with pytest.raises(ValueError, match="saved steps: 4, 8"):
        load_run(workdir, step=5)
    with pytest.raises(ValueError, match="best, latest"):
        load_run(workdir, step="newest")
    with pytest.raises(FileNotFoundError, match="not a training work directory"):
        load_run(str(tmp_path))


@pytest.mark.slow  # every evaluator end to end (46 s); each is also tested on its own
def test_all_evaluators_write_results_and_plots(workdir):
    record = evaluate_run(
        workdir,
        step="latest",
        evals=list(FAST_EVALS),
        overrides={f"{n}.{k}": v for n, opts in FAST_EVALS.items() for k, v in opts.items()},
    )
    with open(os.path.join(workdir, "results.json")) as f:
        written = json.load(f)
    assert written["metrics"] == record["metrics"]
    metrics = written["metrics"]
    for name in FAST_EVALS:
        assert any(key.startswith(f"{name}/") for key in metrics), name
    assert all(np.isfinite(v) for v in metrics.values())
    assert metrics["likelihood/nll"] > 0 and metrics["likelihood/num_samples"] == 20
    # The rate and distortion split the ELBO (an analytic KL for this Gaussian VAE).
    assert metrics["likelihood/kl"] > 0
    assert np.isclose(
        metrics["likelihood/kl"] + metrics["likelihood/distortion"], -metrics["likelihood/elbo"]
    )
    assert 0.0 <= metrics["anomaly/auroc"] <= 1.0
    assert metrics["cost/parameter_count"] > 0 and metrics["cost/step"] == 8
    assert written["step"] == 8 and "8" in written["history"]
    assert written["device"] and written["time"] and "commit" in written
    for plot in ("samples.png", "interpolations.png", "traversals.png", "latent_scatter.png"):
        assert os.path.join("evaluation", "step_8", plot) in written["plots"]
    for plot in written["plots"]:
        assert os.path.getsize(os.path.join(workdir, plot)) > 0


def test_unknown_evaluators_and_options_are_explained(workdir):
    config = load_run(workdir).config
    with pytest.raises(UnknownNameError, match="Valid evaluator names: anomaly"):
        resolve_evals(config, ["likelyhood"])
    with pytest.raises(
        ValueError,
        match=r"samples is not a known field of evaluator 'likelihood': did you mean "
        r"'num_samples'\? known fields here: active_threshold, batch_size",
    ):
        build_evaluator("likelihood", {"samples": 3})
    with pytest.raises(ValueError, match="not being run"):
        resolve_evals(config, ["cost"], {"likelihood.num_samples": 3})
    with pytest.raises(ValueError, match=r"score='error' is not valid: must be one of"):
        build_evaluator("anomaly", {"score": "error"})


def test_evaluate_all_steps_keeps_a_history(workdir):
    record = evaluate_run(workdir, step="all", evals=["cost"])
    assert sorted(record["history"], key=int) == ["4", "8"]
    assert record["history"]["4"]["metrics"]["cost/step"] == 4
    assert record["step"] == int(load_run(workdir, "best").step)


@pytest.mark.slow  # subprocesses (8 s)
def test_command_line_end_to_end(workdir):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "experiments" / "evaluate.py"),
            f"--workdir={workdir}",
            "--step=4",
            "--evals=reconstruction,likelihood",
            "--option=likelihood.num_samples=5",
            "--option=likelihood.max_examples=50",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    with open(os.path.join(workdir, "results.json")) as f:
        written = json.load(f)
    assert written["step"] == 4
    assert written["metrics"]["likelihood/num_samples"] == 5
    assert "experiments/evaluate.py" in written["command"]


def test_evaluators_run_inside_the_training_loop(tmp_path):
    config = _tiny_config()
    config.evals.reconstruction.every = 4
    config.evals.likelihood = {"num_samples": 5, "max_examples": 40, "every": 8}
    workdir = str(tmp_path / "run")
    train_and_evaluate(config, workdir)
    logged = {r["step"]: r for r in read_metrics(workdir) if "eval/loss" in r}
    assert "evals/reconstruction/mse" in logged[4] and "evals/reconstruction/mse" in logged[8]
    assert "evals/likelihood/nll" not in logged[4] and "evals/likelihood/nll" in logged[8]
    # The run has a validation split, so the loop's evaluators report on it (their
    # metrics may rank checkpoints): never into the test results.
    assert not os.path.exists(os.path.join(workdir, "results.json"))
    with open(os.path.join(workdir, "results_validation.json")) as f:
        history = json.load(f)["history"]
    assert sorted(history, key=int) == ["4", "8"]
    assert history["8"]["train_seconds"] >= history["4"]["train_seconds"] > 0
    assert history["8"]["split"] == "validation"


@pytest.mark.slow  # two runs and two evaluations (12 s)
def test_evaluating_on_the_validation_split(tmp_path):
    config = _tiny_config()
    config.data.validation_fraction = 0.25
    workdir = str(tmp_path / "run")
    train_and_evaluate(config, workdir)
    test = evaluate_run(workdir, evals=["reconstruction"])
    validation = evaluate_run(workdir, evals=["reconstruction"], split="validation")
    assert test["split"] == "test" and validation["split"] == "validation"
    assert test["metrics"]["reconstruction/mse"] != validation["metrics"]["reconstruction/mse"]
    with open(os.path.join(workdir, "results.json")) as f:
        assert json.load(f)["split"] == "test"
    with open(os.path.join(workdir, "results_validation.json")) as f:
        assert json.load(f)["split"] == "validation"
    config.data.validation_fraction = 0.0
    train_and_evaluate(config, str(tmp_path / "no_validation"))
    with pytest.raises(ValueError, match="no validation split"):
        evaluate_run(str(tmp_path / "no_validation"), evals=["reconstruction"], split="validation")


@pytest.mark.slow  # trains and evaluates a DAE (16 s)
def test_a_run_trained_on_corrupted_inputs_is_evaluated_on_clean_data(tmp_path):
    """A denoising run's evaluators see the clean data (the training corruption is not
    applied to it), and the denoising evaluator corrupts it once: its noisy input's
    error is that of the noise alone (std 0.3 clipped to [0, 1]: MSE near 0.05), not of
    the noise applied twice."""
    config = _tiny_config()
    config.model.name = "dense_ae"
    config.objective.name = "reconstruction"
    config.data.corruption = ml_collections.ConfigDict(
        {"name": "gaussian_noise", "std": 0.3, "clip": True}
    )
    workdir = str(tmp_path / "dae")
    train_and_evaluate(config, workdir)
    context = EvalContext(load_run(workdir), str(tmp_path / "plots"))
    inputs = context.split("eval").inputs
    # The digits are scaled to [0, 1] and take few distinct values when clean; noise
    # would make almost every pixel distinct.
    assert len(np.unique(inputs)) <= 17
    metrics = evaluate_run(workdir, evals=["denoising"], overrides={"denoising.max_examples": 100})[
        "metrics"
    ]
    assert metrics["denoising/gaussian_noise/noisy/mse"] < 0.07


def test_periodic_every_must_align_with_evaluations(tmp_path):
    config = _tiny_config()
    config.evals.reconstruction.every = 3
    with pytest.raises(ValueError, match=r"multiple of config\.train\.eval_every=4"):
        train_and_evaluate(config, str(tmp_path / "run"))


@pytest.mark.slow  # trains an AE and runs five evaluators (8 s)
def test_deterministic_autoencoder(tmp_path):
    config = _tiny_config()
    config.model.name = "dense_ae"
    config.objective.name = "reconstruction"
    workdir = str(tmp_path / "ae")
    train_and_evaluate(config, workdir)
    evals = ["reconstruction", "compression", "pca", "generation", "imputation"]
    overrides = {
        f"{n}.{k}": v for n, opts in FAST_EVALS.items() if n in evals for k, v in opts.items()
    }
    metrics = evaluate_run(workdir, evals=evals, overrides=overrides)["metrics"]
    assert metrics["pca/code_size"] == 4 and metrics["compression/code_bits"] == 4 * 6
    assert metrics["generation/num_plots"] == 4
    with pytest.raises(ValueError, match="needs a variational model"):
        evaluate_run(workdir, evals=["likelihood"])


@pytest.mark.slow  # trains and evaluates an ECG5000 run (11 s)
@pytest.mark.skipif(not os.environ.get("AELAB_DATA_DIR"), reason="needs AELAB_DATA_DIR")
def test_ecg5000_anomaly_detection_trained_on_normal_beats(tmp_path):
    config = _tiny_config()
    config.data.name = "ecg5000"
    config.data.train_labels = (0,)
    config.data.eval_batch_size = 500
    config.model.name = "dense_ae"
    config.objective.name = "reconstruction"
    config.objective.likelihood = "mse"
    config.train.num_steps = 40
    config.train.eval_every = config.train.checkpoint_every = 40
    config.train.eval_examples = 500
    workdir = str(tmp_path / "ecg")
    train_and_evaluate(config, workdir)
    metrics = evaluate_run(
        workdir,
        evals=["anomaly", "reconstruction", "generation"],
        overrides={"anomaly.max_examples": 1000},
    )["metrics"]
    # Normal beats (label 0) reconstruct better than the rest, even after 40 steps.
    assert metrics["anomaly/auroc"] > 0.6
    assert metrics["anomaly/num_normal"] + metrics["anomaly/num_anomalous"] == 1000
    assert "reconstruction/ssim" not in metrics  # series, not images
