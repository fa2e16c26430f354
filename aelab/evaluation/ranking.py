"""Ranking metrics of anomaly scores: AUROC and average precision (NumPy).

Both take scores [n] (higher = more anomalous) and positives [n] (True for anomalies).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata


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
    random negative, ties counting one half (the Mann-Whitney U statistic / n+ n-)."""
    scores, positives = _check(scores, positives)
    ranks = rankdata(scores)  # average ranks for ties
    num_pos = positives.sum()
    num_neg = len(scores) - num_pos
    u = ranks[positives].sum() - num_pos * (num_pos + 1) / 2
    return float(u / (num_pos * num_neg))


def average_precision(scores: np.ndarray, positives: np.ndarray) -> float:
    """Sum over score thresholds (high to low) of precision times the recall gained:
    AP = sum_n (R_n - R_{n-1}) P_n, with tied scores forming one threshold."""
    scores, positives = _check(scores, positives)
    order = np.argsort(-scores, kind="stable")
    sorted_scores, hits = scores[order], positives[order]
    true_pos = np.cumsum(hits)
    last_of_each_score = np.r_[np.flatnonzero(np.diff(sorted_scores)), len(scores) - 1]
    true_pos = true_pos[last_of_each_score]
    predicted = last_of_each_score + 1
    precision = true_pos / predicted
    recall = true_pos / true_pos[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
