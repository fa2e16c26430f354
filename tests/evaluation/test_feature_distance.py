"""The classifier-based evaluators: aelab's own classifier trained by the loop, the
feature distance and class-conditional generation measured with it, and their errors."""

import os

import jax
import numpy as np
import pytest

from aelab.config import base_config
from aelab.evaluation import evaluate_run, train_and_evaluate
from aelab.evaluation.classifier_calls import load_classifier
from aelab.evaluation.compared_images import balanced_classes
from aelab.evaluation.context import EvalContext
from aelab.evaluation.likelihood import importance_sampled_log_likelihood
from aelab.evaluation.loading import load_run


def test_an_unset_classifier_names_the_field_and_the_command():
    with pytest.raises(ValueError, match=r"evals\.feature_distance\.classifier is not set") as e:
        load_classifier(None, field="evals.feature_distance.classifier")
    assert "configs/mnist_classifier.py" in str(e.value)
    assert "--option=feature_distance.classifier=" in str(e.value)


def test_a_path_that_is_no_run_is_refused(tmp_path):
    with pytest.raises(ValueError, match="is not a trained run"):
        load_classifier(str(tmp_path), field="evals.feature_distance.classifier")


def test_balanced_classes_cycle_through_the_classes():
    np.testing.assert_array_equal(balanced_classes(7, 3), [0, 1, 2, 0, 1, 2, 0])


def _digits(model: str, objective: str, steps: int):
    config = base_config(data="digits", model=model, objective=objective)
    config.mesh.num_devices = 1
    config.data.batch_size = 32
    config.data.eval_batch_size = 120
    config.data.validation_fraction = 0.1
    config.train.num_steps = steps
    config.train.log_every = steps
    config.train.eval_every = steps
    config.train.checkpoint_every = steps
    config.train.steps_per_call = 1
    config.optimizer.learning_rate = 3e-3
    config.evals = {}
    return config


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A conv classifier and a conditional (concat) dense VAE on the 8x8 digits."""
    root = tmp_path_factory.mktemp("classifier_runs")
    classifier = _digits("conv_classifier", "classification", 150)
    classifier.model.channels = (8, 16)
    classifier.model.latent_dim = 32
    cvae = _digits("dense_vae", "elbo", 100)
    cvae.model.hidden_dims = (64,)
    cvae.model.latent_dim = 4
    cvae.model.conditioning = "concat"
    paths = {"classifier": str(root / "classifier"), "cvae": str(root / "cvae")}
    train_and_evaluate(classifier, paths["classifier"])
    train_and_evaluate(cvae, paths["cvae"])
    return paths


@pytest.mark.slow
def test_the_classifier_trains_and_reports_its_accuracy(runs):
    record = evaluate_run(runs["classifier"], evals=["classification", "objective"])
    metrics = record["metrics"]
    # 150 steps on the digits: far above chance (10%); both evaluators agree.
    assert metrics["classification/accuracy"] > 0.7
    assert metrics["classification/accuracy"] == pytest.approx(metrics["objective/accuracy"])


@pytest.mark.slow
def test_feature_distance_and_conditional_generation_of_a_conditional_vae(runs):
    overrides = {
        "feature_distance.classifier": runs["classifier"],
        "feature_distance.num_samples": 200,
        "conditional_generation.classifier": runs["classifier"],
        "conditional_generation.samples_per_class": 20,
    }
    record = evaluate_run(
        runs["cvae"],
        evals=["feature_distance", "conditional_generation", "reconstruction", "objective"],
        overrides=overrides,
    )
    metrics = record["metrics"]
    fd = {k: metrics[f"feature_distance/{k}"] for k in ("reconstruction_fd", "sample_fd")}
    baseline = metrics["feature_distance/train_test_fd"]
    assert all(np.isfinite(v) and v >= 0 for v in [*fd.values(), baseline])
    # Reconstructions and samples of a barely trained model are farther from the real
    # images than other real images are.
    assert fd["reconstruction_fd"] > baseline and fd["sample_fd"] > baseline
    assert metrics["conditional_generation/real_accuracy"] == pytest.approx(
        metrics["feature_distance/real_accuracy"]
    )
    per_class = [metrics[f"conditional_generation/sample_accuracy_class_{c}"] for c in range(10)]
    assert np.mean(per_class) == pytest.approx(metrics["conditional_generation/sample_accuracy"])
    assert np.isfinite(metrics["objective/elbo"]) and "reconstruction/mse" in metrics
    grids = [p for p in record["plots"] if p.endswith("conditional_samples.png")]
    assert grids and os.path.exists(os.path.join(runs["cvae"], grids[0]))  # relative paths


@pytest.mark.slow
def test_the_classifier_evaluators_refuse_the_wrong_kind_of_run(runs):
    with pytest.raises(ValueError, match="not a classifier"):
        evaluate_run(
            runs["cvae"],
            evals=["feature_distance"],
            overrides={"feature_distance.classifier": runs["cvae"]},
        )
    with pytest.raises(ValueError, match="measures a classifier"):
        evaluate_run(runs["cvae"], evals=["classification"])
    with pytest.raises(ValueError, match="needs a conditional model"):
        evaluate_run(
            runs["classifier"],
            evals=["conditional_generation"],
            overrides={"conditional_generation.classifier": runs["classifier"]},
        )


@pytest.mark.slow
def test_likelihood_and_generation_give_a_conditional_vae_its_labels(runs):
    record = evaluate_run(
        runs["cvae"],
        evals=["likelihood", "generation", "objective"],
        overrides={"likelihood.num_samples": 20, "generation.num_samples": 20},
    )
    metrics = record["metrics"]
    assert np.isfinite(metrics["likelihood/nll"]) and np.isfinite(metrics["likelihood/kl"])
    # log p̂_k(x | c) is at least the mean log weight it averages (Jensen), per example.
    assert metrics["likelihood/nll"] <= -metrics["likelihood/elbo"] + 1e-6
    # The k-sample ELBO under the true labels estimates what the objective computes.
    assert metrics["likelihood/elbo"] == pytest.approx(metrics["objective/elbo"], rel=0.05)
    # samples, interpolations, traversals and the latent scatter.
    assert metrics["generation/num_plots"] == 4

    run = load_run(runs["cvae"])
    context = EvalContext(run, runs["cvae"], seed=0)
    split, calls = context.split("eval"), context.model_calls

    def mean_log_likelihood(labels):
        return importance_sampled_log_likelihood(
            run.graphdef,
            run.params,
            run.model_state,
            context.likelihood,
            split.inputs,
            num_samples=20,
            key=jax.random.PRNGKey(0),
            conditions=calls.label_condition(labels),
        ).log_likelihood.mean()

    true = mean_log_likelihood(split.labels)
    wrong = mean_log_likelihood((split.labels + 1) % 10)
    assert true > wrong
