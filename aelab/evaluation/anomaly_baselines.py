"""The classic anomaly detectors an autoencoder is compared with, on the same split.

Each is fitted on the normal training examples (those the model trained on) and scores
the evaluation examples (higher = more anomalous):

- PCA reconstruction error, with its number of components chosen on the validation
  split (the fewest that reconstruct `variance` of the validation data's variance: the
  validation data are normal only, so no anomaly informs the choice), and also at the
  number that is best on the test split in hindsight: PCA's upper bound, which no
  honest protocol could pick (one-class data give no way to) but which the model must
  beat to claim a win;
- isolation forest (Liu et al., 2008);
- one-class SVM with an RBF kernel (Schölkopf et al., 2001).
"""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.svm import OneClassSVM

from aelab.evaluation.ranking import auroc, average_precision

BASELINES = ("pca", "isolation_forest", "one_class_svm")


def _flat(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, np.float64).reshape(len(x), -1)


def pca_errors(pca: PCA, x: np.ndarray, components: int) -> np.ndarray:
    """Squared reconstruction error per example [n] from the first `components` of a
    fitted PCA."""
    centred = _flat(x) - pca.mean_
    basis = pca.components_[:components]
    reconstruction = centred @ basis.T @ basis
    return np.sum((centred - reconstruction) ** 2, axis=1)


def pca_components_for(pca: PCA, validation: np.ndarray, variance: float) -> int:
    """The fewest components that reconstruct `variance` of the validation variance."""
    total = np.sum((_flat(validation) - pca.mean_) ** 2)
    for components in range(1, pca.n_components_ + 1):
        if 1.0 - pca_errors(pca, validation, components).sum() / total >= variance:
            return components
    return pca.n_components_


def baseline_metrics(
    name: str,
    train: np.ndarray,
    validation: np.ndarray,
    test: np.ndarray,
    anomalous: np.ndarray,
    *,
    variance: float = 0.9,
    max_components: int = 64,
    seed: int = 0,
) -> dict[str, float]:
    """AUROC and AP of one baseline fitted on `train` (normal examples [m, ...]) scoring
    `test` [n, ...] (`anomalous` [n] bool). For "pca", also its chosen number of
    components and its hindsight-best upper bound ("pca_upper_bound/...")."""
    x_train, x_test = _flat(train), _flat(test)
    if name == "pca":
        limit = min(max_components, *x_train.shape)
        pca = PCA(n_components=limit, random_state=seed).fit(x_train)
        chosen = pca_components_for(pca, validation, variance)
        scores = pca_errors(pca, test, chosen)
        by_components = {
            k: auroc(pca_errors(pca, test, k), anomalous) for k in range(1, pca.n_components_ + 1)
        }
        best = max(by_components, key=by_components.get)
        best_scores = pca_errors(pca, test, best)
        return {
            "pca/auroc": auroc(scores, anomalous),
            "pca/average_precision": average_precision(scores, anomalous),
            "pca/components": float(chosen),
            "pca_upper_bound/auroc": by_components[best],
            "pca_upper_bound/average_precision": average_precision(best_scores, anomalous),
            "pca_upper_bound/components": float(best),
        }
    if name == "isolation_forest":
        forest = IsolationForest(n_estimators=300, random_state=seed).fit(x_train)
        scores = -forest.score_samples(x_test)
    elif name == "one_class_svm":
        # nu: the fraction of training examples allowed outside the boundary.
        svm = OneClassSVM(kernel="rbf", gamma="scale", nu=0.1).fit(x_train)
        scores = -svm.score_samples(x_test)
    else:
        raise ValueError(f"Unknown anomaly baseline {name!r}; choose from {', '.join(BASELINES)}.")
    return {
        f"{name}/auroc": auroc(scores, anomalous),
        f"{name}/average_precision": average_precision(scores, anomalous),
    }
