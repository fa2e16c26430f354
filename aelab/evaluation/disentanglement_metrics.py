"""Disentanglement metrics: how codes `[n, d]` line up with ground-truth discrete
factors `[n, k]` (pure NumPy and scikit-learn).

Each metric follows its paper and disentanglement_lib (Locatello et al. 2019), whose
choices are kept where the papers leave them open; where this module departs from the
library it says so.

- `beta_vae_score` (Higgins et al. 2017) and `factor_vae_score` (Kim & Mnih 2018) need
  examples with one factor fixed, so they take `encode(factors) -> codes`, which makes
  and encodes the examples of chosen factor classes.
- `mig` (Chen et al. 2018), `sap` (Kumar et al. 2018), `dci` (Eastwood & Williams 2018),
  `modularity` and `explicitness` (Ridgeway & Mozer 2018) read codes and factors of a
  sample of the data.
- `active_units` (Burda et al. 2016) counts the code dimensions that vary.

Mutual information is in nats over codes discretised per dimension into equal-width
bins (disentanglement_lib's histogram discretisation).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import mutual_info_score, roc_auc_score
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

Encode = Callable[[np.ndarray], np.ndarray]  # factor classes [n, k] -> codes [n, d]


def _sample_factors(rng: np.random.Generator, factor_sizes, n: int) -> np.ndarray:
    return np.stack([rng.integers(0, size, n) for size in factor_sizes], axis=1)


def _encode_batches(encode: Encode, factors: np.ndarray, *, chunk: int = 8192) -> np.ndarray:
    """Codes [p, b, d] of batches of factor classes [p, b, k], encoded about `chunk`
    examples at a time (whole batches)."""
    per_call = max(1, chunk // factors.shape[1])
    flat = [
        encode(part.reshape(-1, part.shape[-1]))
        for part in np.split(factors, np.arange(per_call, len(factors), per_call))
    ]
    return np.concatenate(flat).reshape(*factors.shape[:2], -1)


def _fit_quietly(model, features: np.ndarray, targets: np.ndarray):
    """`model.fit`, with scikit-learn's convergence warnings silenced (a solver that
    stops at its iteration limit still gives a usable classifier)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(features, targets)


def _top_two(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The largest and second largest of non-negative scores [d, k] over axis 0, per
    column: ([k], [k]); the second is 0 for a one-dimensional code."""
    top = np.sort(np.vstack([scores, np.zeros_like(scores[:1])]), axis=0)[::-1]
    return top[0], top[1]


def _standardize(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scaler = StandardScaler().fit(train)
    return scaler.transform(train), scaler.transform(test)


def discretize(codes: np.ndarray, bins: int = 20) -> np.ndarray:
    """Each code dimension cut into `bins` equal-width bins over its range: int [n, d]."""
    columns = []
    for column in codes.T:
        edges = np.histogram(column, bins)[1]
        columns.append(np.digitize(column, edges[:-1]))
    return np.stack(columns, axis=1)


def mutual_information(discrete_codes: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """I(code_i; factor_j) in nats of discrete codes [n, d] and factors [n, k]: [d, k]."""
    return np.array(
        [[mutual_info_score(factor, code) for factor in factors.T] for code in discrete_codes.T]
    )


def factor_entropies(factors: np.ndarray) -> np.ndarray:
    """H(factor_j) in nats of factors [n, k]: [k]."""
    return np.array([mutual_info_score(factor, factor) for factor in factors.T])


def mig(codes: np.ndarray, factors: np.ndarray, *, bins: int = 20) -> float:
    """Mutual information gap: the mean over factors of (the largest minus the second
    largest I(code_i; factor_j) over code dimensions i) / H(factor_j).

    Args:
      codes: [n, d].
      factors: int [n, k], each factor with at least two classes in the sample.
      bins: per-dimension bins of the discretised codes.

    Returns:
      In [0, 1]: 1 when each factor is captured by one dimension alone.
    """
    first, second = _top_two(mutual_information(discretize(codes, bins), factors))
    return float(np.mean((first - second) / factor_entropies(factors)))


def sap(
    train_codes: np.ndarray,
    train_factors: np.ndarray,
    test_codes: np.ndarray,
    test_factors: np.ndarray,
) -> float:
    """Separated attribute predictability: score each (code dimension i, factor j) by
    the test accuracy of a linear classifier predicting factor j from dimension i alone
    (disentanglement_lib's LinearSVC, C=0.01, balanced classes, on the standardised
    dimension); return the mean over factors of the top score minus the second.

    Args:
      train_codes, test_codes: [m, d], [n, d].
      train_factors, test_factors: int [m, k], [n, k].

    Returns:
      In [0, 1): high when each factor is predicted by one dimension and no other; the
      top score is at most 1 minus chance, so a perfect code of factors with few
      classes scores well below 1.
    """
    train_codes, test_codes = _standardize(train_codes, test_codes)
    scores = np.zeros((train_codes.shape[1], train_factors.shape[1]))
    for i in range(train_codes.shape[1]):
        for j in range(train_factors.shape[1]):
            classifier = LinearSVC(C=0.01, class_weight="balanced")
            _fit_quietly(classifier, train_codes[:, i : i + 1], train_factors[:, j])
            predicted = classifier.predict(test_codes[:, i : i + 1])
            scores[i, j] = np.mean(predicted == test_factors[:, j])
    first, second = _top_two(scores)
    return float(np.mean(first - second))


def _normalized_entropy(p: np.ndarray, axis: int) -> np.ndarray:
    """1 - the entropy of `p` normalised along `axis`, in units of log(size of axis)
    (1 along an axis of size 1)."""
    if p.shape[axis] == 1:
        return np.ones(p.shape[1 - axis])
    total = p.sum(axis=axis, keepdims=True)
    q = np.divide(p, total, out=np.full_like(p, 1.0 / p.shape[axis]), where=total > 0)
    logs = np.log(np.where(q > 0, q, 1.0))
    return 1.0 + (q * logs).sum(axis=axis) / np.log(p.shape[axis])


def dci(
    train_codes: np.ndarray,
    train_factors: np.ndarray,
    test_codes: np.ndarray,
    test_factors: np.ndarray,
    *,
    estimators: int = 10,
    seed: int = 0,
) -> dict[str, float]:
    """Disentanglement, completeness and informativeness from the importance matrix R
    [d, k] of gradient boosted trees predicting each factor from the code.

    R[:, j] is the feature importance of a `GradientBoostingClassifier` (depth 3) fitted
    to factor j. Disentanglement: 1 - H_k(R[i] / sum R[i]) per dimension, weighted by
    dimension i's share of all importance; completeness: 1 - H_d(R[:, j] / sum R[:, j])
    per factor, weighted by factor j's share; H_m is the entropy in base m.
    Informativeness: the mean test accuracy over factors.

    disentanglement_lib fits 100 trees per class; `estimators` (10 by default) trades
    that for speed: the importances settle with few trees (they are relative), while
    the accuracy is somewhat lower than with 100.

    Args:
      train_codes, test_codes: [m, d], [n, d].
      train_factors, test_factors: int [m, k], [n, k].

    Returns:
      {"dci_disentanglement", "dci_completeness", "dci_informativeness"}, each in [0, 1].
    """
    importance = np.zeros((train_codes.shape[1], train_factors.shape[1]))
    accuracies = []
    for j in range(train_factors.shape[1]):
        model = GradientBoostingClassifier(n_estimators=estimators, random_state=seed)
        model.fit(train_codes, train_factors[:, j])
        importance[:, j] = np.abs(model.feature_importances_)
        accuracies.append(np.mean(model.predict(test_codes) == test_factors[:, j]))
    total = importance.sum()
    code_weight = importance.sum(axis=1) / total if total > 0 else None
    factor_weight = importance.sum(axis=0) / total if total > 0 else None
    disentanglement = _normalized_entropy(importance, axis=1)
    completeness = _normalized_entropy(importance, axis=0)
    return {
        "dci_disentanglement": float(np.sum(disentanglement * code_weight)) if total else 0.0,
        "dci_completeness": float(np.sum(completeness * factor_weight)) if total else 0.0,
        "dci_informativeness": float(np.mean(accuracies)),
    }


def modularity(codes: np.ndarray, factors: np.ndarray, *, bins: int = 20) -> float:
    """Modularity: how much each code dimension's mutual information goes to one factor.

    Per dimension i with m_ij = I(code_i; factor_j) and theta_i = max_j m_ij:
    1 - sum_j (m_ij - theta_i [j is the max])^2 / (theta_i^2 (k - 1)); the mean over
    the dimensions that carry any information (theta_i > 0).

    Returns:
      In [0, 1]: 1 when every dimension informs about one factor only.
    """
    info = mutual_information(discretize(codes, bins), factors)
    theta = info.max(axis=1)
    informed = theta > 0
    if not informed.any():
        return 0.0
    info, theta = info[informed], theta[informed]
    if info.shape[1] == 1:
        return 1.0  # One factor: every dimension informs about it alone.
    template = np.where(info == theta[:, None], theta[:, None], 0.0)
    deviation = ((info - template) ** 2).sum(axis=1) / (theta**2 * (info.shape[1] - 1))
    return float(np.mean(1.0 - deviation))


def explicitness(
    train_codes: np.ndarray,
    train_factors: np.ndarray,
    test_codes: np.ndarray,
    test_factors: np.ndarray,
) -> float:
    """Explicitness: the mean over factors of the macro-averaged one-vs-rest ROC AUC of
    a logistic regression predicting the factor from the (standardised) code.

    Returns:
      In [0, 1]: 0.5 for codes that say nothing of the factors, 1 when a linear
      read-out recovers each factor.
    """
    train_codes, test_codes = _standardize(train_codes, test_codes)
    scores = []
    for j in range(train_factors.shape[1]):
        model = _fit_quietly(LogisticRegression(max_iter=500), train_codes, train_factors[:, j])
        probabilities = model.predict_proba(test_codes)
        truth = test_factors[:, j][:, None] == model.classes_[None, :]
        present = truth.any(axis=0) & ~truth.all(axis=0)
        scores.append(roc_auc_score(truth[:, present], probabilities[:, present], average="macro"))
    return float(np.mean(scores))


def beta_vae_score(
    encode: Encode,
    factor_sizes: tuple[int, ...],
    rng: np.random.Generator,
    *,
    batch_size: int = 64,
    num_train: int = 1000,
    num_eval: int = 500,
) -> float:
    """BetaVAE score: the test accuracy of a linear classifier that tells, from the
    mean absolute code difference of `batch_size` pairs that share one factor's class
    (the other factors drawn independently for each example), which factor was shared.

    Args:
      encode: factor classes int [n, k] -> codes [n, d] of examples made from them.
      factor_sizes: classes of each factor [k], each at least 2.
      rng: draws the factors.
      batch_size: pairs averaged into one classifier input.
      num_train, num_eval: classifier inputs to fit and to score (disentanglement_lib
        uses 10,000 and 5,000).

    Returns:
      In [0, 1]: 1 / k for codes that say nothing of the factors, 1 at best.
    """
    points = num_train + num_eval
    labels = rng.integers(len(factor_sizes), size=points)
    pairs = _sample_factors(rng, factor_sizes, points * 2 * batch_size)
    pairs = pairs.reshape(points, 2, batch_size, len(factor_sizes))
    pairs[np.arange(points), 1, :, labels] = pairs[np.arange(points), 0, :, labels]
    codes = _encode_batches(encode, pairs.reshape(points, 2 * batch_size, -1))
    features = np.mean(np.abs(codes[:, :batch_size] - codes[:, batch_size:]), axis=1)
    model = _fit_quietly(
        LogisticRegression(max_iter=1000), features[:num_train], labels[:num_train]
    )
    return float(np.mean(model.predict(features[num_train:]) == labels[num_train:]))


def factor_vae_score(
    encode: Encode,
    factor_sizes: tuple[int, ...],
    rng: np.random.Generator,
    *,
    batch_size: int = 64,
    num_train: int = 1000,
    num_eval: int = 500,
    num_variance_estimate: int = 5000,
    prune_threshold: float = 0.05,
) -> float:
    """FactorVAE score: the test accuracy of a majority-vote classifier mapping the code
    dimension of least normalised variance within a batch that shares one factor's
    class to that factor.

    Codes are divided by their standard deviation over `num_variance_estimate` random
    examples; dimensions whose variance there is at most `prune_threshold` (collapsed
    ones) take no part. Each vote: a factor j, a batch of `batch_size` examples sharing
    one class of j, the argmin over dimensions of their normalised variance.

    Args:
      encode, factor_sizes, rng, batch_size, num_train, num_eval: as `beta_vae_score`
        (disentanglement_lib uses 10,000 votes to fit and 5,000 to score).

    Returns:
      In [0, 1]: 0 when no dimension varies, about 1 / k for codes that say nothing of
      the factors, 1 at best.
    """
    global_variance = np.var(
        encode(_sample_factors(rng, factor_sizes, num_variance_estimate)), axis=0, ddof=1
    )
    active = global_variance > prune_threshold
    if not active.any():
        return 0.0
    points = num_train + num_eval
    labels = rng.integers(len(factor_sizes), size=points)
    batches = _sample_factors(rng, factor_sizes, points * batch_size)
    batches = batches.reshape(points, batch_size, len(factor_sizes))
    fixed = rng.integers(np.asarray(factor_sizes)[labels])  # [points]
    batches[np.arange(points), :, labels] = fixed[:, None]
    codes = _encode_batches(encode, batches)
    variance = np.var(codes, axis=1, ddof=1)[:, active] / global_variance[active]
    dims = np.flatnonzero(active)[np.argmin(variance, axis=1)]  # [points]
    votes = np.zeros((len(global_variance), len(factor_sizes)), np.int64)
    eval_votes = np.zeros_like(votes)
    np.add.at(votes, (dims[:num_train], labels[:num_train]), 1)
    np.add.at(eval_votes, (dims[num_train:], labels[num_train:]), 1)
    predicted = np.argmax(votes, axis=1)  # per dimension, the factor it votes for most
    correct = eval_votes[np.arange(len(predicted)), predicted].sum()
    return float(correct / num_eval)


def active_units(codes: np.ndarray, threshold: float = 0.01) -> int:
    """Code dimensions whose variance over the examples exceeds `threshold` (Burda et
    al. 2016, on posterior means): codes [n, d] -> an int in [0, d]."""
    return int(np.sum(np.var(codes, axis=0) > threshold))
