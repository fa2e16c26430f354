"""Ranking metrics of anomaly scores: AUROC and average precision (scikit-learn's), with
clear errors for inputs they cannot rank.

Both take scores [n] (higher = more anomalous) and positives [n] (True for anomalies).
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score


def _check(scores: np.ndarray, positives: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(scores, np.float64).reshape(-1)
    positives = np.asarray(positives).astype(bool).reshape(-1)
    if scores.shape != positives.shape:
        raise ValueError(f"scores {scores.shape} and positives {positives.shape} differ in size.")
    if positives.all() or not positives.any():
        raise ValueError("Ranking metrics need both positive and negative examples.")
    if not np.all(np.isfinite(scores)):
        raise ValueError("Anomaly scores contain NaN or infinity.")
    return scores, positives


def auroc(scores: np.ndarray, positives: np.ndarray) -> float:
    """Area under the ROC curve: the probability that a random positive scores above a
    random negative, ties counting one half."""
    scores, positives = _check(scores, positives)
    return float(roc_auc_score(positives, scores))


def average_precision(scores: np.ndarray, positives: np.ndarray) -> float:
    """Average precision: sum over score thresholds of precision times the recall gained
    (tied scores form one threshold)."""
    scores, positives = _check(scores, positives)
    return float(average_precision_score(positives, scores))
