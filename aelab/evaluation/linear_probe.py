"""Linear probe: how linearly separable the classes are in the code, vs raw inputs and
PCA codes of the same size."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from aelab.core.options import option, options_class
from aelab.evaluation.registry import Evaluator, register_evaluator


def probe_accuracy(
    train_features: np.ndarray,
    train_labels: np.ndarray,
    test_features: np.ndarray,
    test_labels: np.ndarray,
    *,
    regularization: float = 1.0,
    max_iter: int = 1000,
) -> tuple[float, bool]:
    """Test accuracy of a multinomial logistic regression (features standardised,
    L2 penalty with inverse strength `regularization`) trained on the training
    features [m, d]. Returns (accuracy, whether the solver converged)."""
    probe = make_pipeline(StandardScaler(), LogisticRegression(C=regularization, max_iter=max_iter))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        probe.fit(train_features, train_labels)
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    accuracy = float(np.mean(probe.predict(test_features) == test_labels))
    return accuracy, converged


@register_evaluator("linear_probe")
@options_class
class LinearProbeEvaluator(Evaluator):
    """Logistic-regression accuracy on the model's codes (a VAE's posterior means), on
    the raw inputs, and on PCA codes with as many components as the model's code.

    Metrics: code_accuracy, raw_accuracy, pca_accuracy, code_size, and
    <features>_converged (1 when the solver converged within `max_iter`).

    Options:
      fit_examples: labelled training examples the probes are fitted on.
      max_examples: test examples (None: the whole split).
      regularization: inverse L2 strength C of the logistic regression.
      max_iter: solver iterations.
    """

    fit_examples: int = option(10_000, "training examples the probes are fitted on", minimum=2)
    max_examples: int | None = option(None, "test examples (None: the whole split)", minimum=1)
    regularization: float = option(
        1.0, "inverse L2 strength C of the logistic regression", above=0.0
    )
    max_iter: int = option(1000, "solver iterations", minimum=1)

    def __call__(self, context) -> dict[str, float]:
        test = context.split("eval", max_examples=self.max_examples)
        train = context.split("train", max_examples=self.fit_examples)
        train_labels = train.require_labels("The linear probe")
        test_labels = test.require_labels("The linear probe")
        calls = context.model_calls
        train_codes, test_codes = calls.codes(train.inputs), calls.codes(test.inputs)
        code_size = train_codes.shape[1]
        raw_train = train.inputs.reshape(len(train.inputs), -1)
        raw_test = test.inputs.reshape(len(test.inputs), -1)
        pca = PCA(n_components=code_size, random_state=context.seed).fit(raw_train)
        features = {
            "code": (train_codes, test_codes),
            "raw": (raw_train, raw_test),
            "pca": (pca.transform(raw_train), pca.transform(raw_test)),
        }
        metrics = {"code_size": float(code_size)}
        for name, (train_x, test_x) in features.items():
            accuracy, converged = probe_accuracy(
                train_x,
                train_labels,
                test_x,
                test_labels,
                regularization=self.regularization,
                max_iter=self.max_iter,
            )
            metrics[f"{name}_accuracy"] = accuracy
            metrics[f"{name}_converged"] = float(converged)
        return metrics
