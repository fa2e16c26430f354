"""Anomaly detection: AUROC and average precision of the model's anomaly scores, next to
the classic detectors on the same split (`anomaly_baselines`).

The one-class protocol trains on normal examples only (`config.data.train_labels`, e.g.
(0,) for normal ECG5000 beats or one class of a UCR data set) and scores every example
of the evaluation split: examples whose label is not normal are the anomalies. Scores:

- reconstruction_error: the mean squared error of the reconstruction;
- nll: the importance-sampled negative log-likelihood with `nll_samples` samples (VAEs);
- negative_elbo: minus the k-sample ELBO estimate, from the same samples (VAEs);
- latent_distance: the Mahalanobis distance of the code to the Gaussian of the normal
  training codes (any model);
- member_error: a deep ensemble's (`config.model.ensemble_members`) mean over its
  members of each member's reconstruction error: the error of the mean reconstruction
  (reconstruction_error) plus the members' disagreement about the input.
"""

from __future__ import annotations

import numpy as np

from aelab.core.options import option, options_class
from aelab.evaluation.anomaly_baselines import BASELINES, baseline_metrics
from aelab.evaluation.image_quality import mean_squared_error
from aelab.evaluation.likelihood import importance_sampled_log_likelihood
from aelab.evaluation.ranking import auroc, average_precision
from aelab.evaluation.registry import Evaluator, register_evaluator

SCORES = ("reconstruction_error", "nll", "negative_elbo", "latent_distance", "member_error")
_VARIATIONAL_SCORES = ("nll", "negative_elbo")
_ENSEMBLE_SCORES = ("member_error",)


def mahalanobis_distances(train_codes: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Distance of each of `codes` [n, d] to the Gaussian fitted to `train_codes` [m, d]
    (a small ridge keeps the covariance invertible): [n]."""
    mean = train_codes.mean(axis=0)
    cov = np.cov(train_codes, rowvar=False).reshape(codes.shape[1], codes.shape[1])
    cov += 1e-6 * np.trace(cov) / max(len(cov), 1) * np.eye(len(cov)) + 1e-9 * np.eye(len(cov))
    centred = codes - mean
    return np.sqrt(np.einsum("nd,nd->n", centred, np.linalg.solve(cov, centred.T).T))


@register_evaluator("anomaly")
@options_class
class AnomalyEvaluator(Evaluator):
    """Scores each evaluation example; anomalies are those whose label is not normal.

    Metrics: auroc and average_precision of `score` (anomalies the positive class), the
    same as "<score>/auroc", "<score>/average_precision" for every score of `scores`,
    auroc_class_<c> of `score` for each anomalous label c against the normal examples;
    per baseline "<baseline>/auroc", "<baseline>/average_precision" (PCA also its
    components, and "pca_upper_bound/..."); best_baseline_auroc (the best of the
    baselines, PCA's upper bound included) and auroc_margin (auroc minus it: above 0,
    the model beats every baseline); num_normal, num_anomalous.
    Plots: anomaly_scores.png (score histograms of normal and anomalous examples); for
    time series, anomaly_error_maps.png (the mean squared error at each time step of
    normal and anomalous series, and example series with their reconstructions).
    """

    score: str = option(
        "reconstruction_error",
        "the headline anomaly score (see the module docstring)",
        choices=SCORES,
    )
    scores: tuple[str, ...] | None = option(
        None, "every score to report (None: all that the model supports)", choices=SCORES
    )
    normal_labels: tuple[int, ...] | None = option(
        None,
        "labels of normal examples (None: config.data.train_labels)",
        minimum=0,
        min_length=1,
    )
    nll_samples: int = option(100, "k for the scores nll and negative_elbo", minimum=1)
    baselines: tuple[str, ...] = option(
        BASELINES,
        "the classic detectors to fit and score on the same split",
        choices=BASELINES,
    )
    pca_variance: float = option(
        0.9,
        "PCA keeps the fewest components reconstructing this much validation variance",
        above=0.0,
        maximum=1.0,
    )
    fit_examples: int = option(
        20_000,
        "normal training examples the baselines and the code Gaussian fit on",
        minimum=2,
    )
    max_examples: int | None = option(
        None, "the first this many evaluation examples (None: all)", minimum=1
    )

    def _model_scores(self, context, inputs, train_codes, names) -> dict[str, np.ndarray]:
        calls = context.model_calls
        out = {}
        if "reconstruction_error" in names:
            out["reconstruction_error"] = mean_squared_error(inputs, calls.reconstruct(inputs))
        if "member_error" in names:
            members = calls.member_reconstructions(inputs)  # [n, K, ...]
            out["member_error"] = np.mean(
                [mean_squared_error(inputs, members[:, k]) for k in range(members.shape[1])],
                axis=0,
            )
        if "latent_distance" in names:
            out["latent_distance"] = mahalanobis_distances(train_codes, calls.codes(inputs))
        if any(n in names for n in _VARIATIONAL_SCORES):
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
            out["nll"] = -estimate.log_likelihood.astype(np.float64)
            out["negative_elbo"] = -estimate.elbo.astype(np.float64)
        return {name: out[name] for name in names}

    def __call__(self, context) -> dict[str, float]:
        normal = self.normal_labels or context.train_labels()
        if not normal:
            raise ValueError(
                "The anomaly evaluator needs the normal labels: set "
                "config.evals.anomaly.normal_labels (or train on them with "
                "config.data.train_labels)."
            )
        variational = context.model_calls.is_variational
        ensemble = context.model_calls.is_ensemble
        names = list(
            self.scores
            or [
                s
                for s in SCORES
                if (variational or s not in _VARIATIONAL_SCORES)
                and (ensemble or s not in _ENSEMBLE_SCORES)
            ]
        )
        if self.score not in names:
            names.insert(0, self.score)
        if not variational and any(n in _VARIATIONAL_SCORES for n in names):
            raise ValueError(
                f"anomaly scores {', '.join(_VARIATIONAL_SCORES)} need a variational model; "
                "use reconstruction_error or latent_distance."
            )
        if not ensemble and any(n in _ENSEMBLE_SCORES for n in names):
            raise ValueError(
                "anomaly score member_error needs a deep ensemble: set "
                "config.model.ensemble_members to 2 or more, or use reconstruction_error."
            )
        data = context.split("eval", max_examples=self.max_examples)
        labels = data.require_labels("Anomaly detection")
        anomalous = ~np.isin(labels, np.asarray(normal))
        train = context.split("train", labels=normal, max_examples=self.fit_examples)
        model_scores = self._model_scores(
            context, data.inputs, context.model_calls.codes(train.inputs), names
        )
        metrics: dict[str, float] = {}
        for name, scores in model_scores.items():
            metrics[f"{name}/auroc"] = auroc(scores, anomalous)
            metrics[f"{name}/average_precision"] = average_precision(scores, anomalous)
        headline = model_scores[self.score]
        metrics["auroc"] = metrics[f"{self.score}/auroc"]
        metrics["average_precision"] = metrics[f"{self.score}/average_precision"]
        for label in np.unique(labels[anomalous]):
            subset = ~anomalous | (labels == label)
            metrics[f"auroc_class_{int(label)}"] = auroc(headline[subset], anomalous[subset])
        if self.baselines:
            # PCA's components are chosen on held-out normal data (the validation split;
            # the training data without one): never on the test split.
            held_out = "validation" if context.has_validation else "train"
            validation = context.split(held_out, labels=normal, max_examples=self.fit_examples)
            for name in self.baselines:
                metrics.update(
                    baseline_metrics(
                        name,
                        train.inputs,
                        validation.inputs,
                        data.inputs,
                        anomalous,
                        variance=self.pca_variance,
                        seed=context.seed,
                    )
                )
            best = max(
                v
                for k, v in metrics.items()
                if k.endswith("/auroc") and k.split("/")[0] in (*BASELINES, "pca_upper_bound")
            )
            metrics["best_baseline_auroc"] = best
            metrics["auroc_margin"] = metrics["auroc"] - best
        metrics["num_normal"] = float(np.sum(~anomalous))
        metrics["num_anomalous"] = float(np.sum(anomalous))
        if context.is_chief:
            _plot_histograms(
                headline, anomalous, self.score, context.plot_path("anomaly_scores.png")
            )
            if not context.is_image and data.inputs.ndim == 3:
                reconstructions = context.model_calls.reconstruct(data.inputs)
                _plot_error_maps(
                    data.inputs,
                    reconstructions,
                    anomalous,
                    context.plot_path("anomaly_error_maps.png"),
                )
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


def _plot_error_maps(inputs, reconstructions, anomalous, path: str) -> None:
    """Per-time-step squared error (mean over channels) of normal and anomalous series,
    and two examples of each with their reconstructions."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    errors = np.mean((inputs - reconstructions) ** 2, axis=-1)  # [n, T]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.0))
    for group, name in ((~anomalous, "normal"), (anomalous, "anomalous")):
        mean, spread = errors[group].mean(axis=0), errors[group].std(axis=0)
        axes[0].plot(mean, label=name)
        axes[0].fill_between(np.arange(len(mean)), mean - spread, mean + spread, alpha=0.2)
    axes[0].set(title="squared error per time step", xlabel="time step")
    axes[0].legend()
    for ax, group, name in ((axes[1], ~anomalous, "normal"), (axes[2], anomalous, "anomalous")):
        for i, index in enumerate(np.flatnonzero(group)[:2]):
            ax.plot(inputs[index, :, 0], color=f"C{i}", label="series" if i == 0 else None)
            ax.plot(
                reconstructions[index, :, 0],
                color=f"C{i}",
                linestyle="--",
                label="reconstruction" if i == 0 else None,
            )
        ax.set(title=f"{name} examples", xlabel="time step")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
