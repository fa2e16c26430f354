"""Anomaly detection: AUROC and average precision of reconstruction error or NLL.

The usual protocol trains on normal examples only (`config.data.train_labels`, e.g.
(0,) for normal ECG5000 beats, or every MNIST digit but one) and scores every example
of the evaluation split: examples whose label is not normal are the anomalies.
"""

from __future__ import annotations

import numpy as np

from aelab.core.options import option, options_class
from aelab.evaluation.image_quality import mean_squared_error
from aelab.evaluation.likelihood import importance_sampled_log_likelihood
from aelab.evaluation.ranking import auroc, average_precision
from aelab.evaluation.registry import Evaluator, register_evaluator

SCORES = ("reconstruction_error", "nll")


@register_evaluator("anomaly")
@options_class
class AnomalyEvaluator(Evaluator):
    """Scores each evaluation example; anomalies are those whose label is not normal.

    Metrics: auroc, average_precision (anomalies as the positive class), auroc_class_<c>
    for each anomalous label c against the normal examples, num_normal, num_anomalous.
    Plot: anomaly_scores.png, histograms of the scores of normal and anomalous examples.

    Options:
      score: "reconstruction_error" (MSE of the reconstruction) or "nll" (importance
        sampled negative log-likelihood with `nll_samples` samples; VAEs only).
      normal_labels: labels of normal examples; None: config.data.train_labels.
      nll_samples: k for score "nll".
      max_examples: the first this many evaluation examples (None: all).
    """

    score: str = option(
        "reconstruction_error",
        "the anomaly score: reconstruction error or importance-sampled NLL (VAEs)",
        choices=SCORES,
    )
    normal_labels: tuple[int, ...] | None = option(
        None,
        "labels of normal examples (None: config.data.train_labels)",
        minimum=0,
        min_length=1,
    )
    nll_samples: int = option(100, "k for the score 'nll'", minimum=1)
    max_examples: int | None = option(
        None, "the first this many evaluation examples (None: all)", minimum=1
    )

    def _scores(self, context, inputs: np.ndarray) -> np.ndarray:
        if self.score == "reconstruction_error":
            return mean_squared_error(inputs, context.model_calls.reconstruct(inputs))
        if not context.model_calls.is_variational:
            raise ValueError(
                "anomaly score 'nll' needs a variational model; use reconstruction_error."
            )
        run = context.run
        estimate = importance_sampled_log_likelihood(
            run.graphdef,
            run.params,
            run.model_state,
            context.likelihood,
            inputs,
            num_samples=self.nll_samples,
            key=context.key("anomaly"),
        )
        return -estimate.log_likelihood.astype(np.float64)

    def __call__(self, context) -> dict[str, float]:
        normal = self.normal_labels or context.train_labels()
        if not normal:
            raise ValueError(
                "The anomaly evaluator needs the normal labels: set "
                "config.evals.anomaly.normal_labels (or train on them with "
                "config.data.train_labels)."
            )
        data = context.split("eval", max_examples=self.max_examples)
        labels = data.require_labels("Anomaly detection")
        anomalous = ~np.isin(labels, np.asarray(normal))
        scores = self._scores(context, data.inputs)
        metrics = {
            "auroc": auroc(scores, anomalous),
            "average_precision": average_precision(scores, anomalous),
            "num_normal": float(np.sum(~anomalous)),
            "num_anomalous": float(np.sum(anomalous)),
        }
        for label in np.unique(labels[anomalous]):
            subset = ~anomalous | (labels == label)
            metrics[f"auroc_class_{int(label)}"] = auroc(scores[subset], anomalous[subset])
        if context.is_chief:
            _plot_histograms(scores, anomalous, self.score, context.plot_path("anomaly_scores.png"))
        return metrics


def _plot_histograms(scores: np.ndarray, anomalous: np.ndarray, name: str, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 3.0))
    bins = np.histogram_bin_edges(scores, bins=50)
    ax.hist(scores[~anomalous], bins=bins, alpha=0.6, label="normal", density=True)
    ax.hist(scores[anomalous], bins=bins, alpha=0.6, label="anomalous", density=True)
    ax.set_xlabel(name.replace("_", " "))
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
