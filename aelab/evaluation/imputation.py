"""Imputation: missing values (pixels, time steps) filled by the model, next to mean
filling, k-nearest-neighbour imputation and iterative imputation (scikit-learn), on the
same examples and the same missing values.

The model fills iteratively: missing values start at the training mean of each
dimension (or at `initial`: the fill value of a model trained on masked inputs), then
`iterations` times the input is reconstructed and the missing values are replaced by the
reconstruction's (observed values always stay as they are). The
baselines are fitted on complete training examples and fill the evaluation examples:
"mean" the training mean of each dimension; "knn" the mean of the `knn_neighbors` training
examples nearest on the observed values (`KNNImputer`); "iterative" a round-robin of
regressions of each dimension on the others (`IterativeImputer`, its `iterative_features`
nearest features, `iterative_iterations` rounds).
"""

from __future__ import annotations

import numpy as np

from aelab.core.options import option, options_class
from aelab.evaluation.registry import Evaluator, register_evaluator

MASKS = ("random", "block")
BASELINES = ("mean", "knn", "iterative")


def missing_mask(
    shape: tuple[int, ...], kind: str, fraction: float, rng: np.random.Generator
) -> np.ndarray:
    """Bool [n, *example_shape], True where a value is missing.

    "random": each value independently with probability `fraction`; "block": in each
    example a contiguous run of round(fraction * length) positions along the first
    example axis (rows of an image, time steps of a series), at a random offset.
    """
    if kind not in MASKS:
        raise ValueError(f"mask {kind!r} is not valid; choose one of {', '.join(MASKS)}.")
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction={fraction} is not valid; it must be in (0, 1).")
    if kind == "random":
        return rng.random(shape) < fraction
    n, length = shape[0], shape[1]
    span = max(1, round(fraction * length))
    starts = rng.integers(0, length - span + 1, size=n)
    positions = np.arange(length)
    rows = (positions >= starts[:, None]) & (positions < starts[:, None] + span)  # [n, length]
    return np.broadcast_to(rows.reshape(n, length, *([1] * (len(shape) - 2))), shape).copy()


def impute(reconstruct, inputs: np.ndarray, missing: np.ndarray, fill: np.ndarray, iterations: int):
    """Iterative model imputation (see module doc): inputs, missing [n, ...]; fill
    [...] the starting value per dimension. Returns the filled inputs [n, ...]."""
    filled = np.where(missing, fill, inputs)
    for _ in range(iterations):
        filled = np.where(missing, reconstruct(filled), inputs)
    return filled


def baseline_fill(
    name: str,
    train: np.ndarray,
    inputs: np.ndarray,
    missing: np.ndarray,
    *,
    neighbors: int,
    features: int,
    iterations: int,
    seed: int,
) -> np.ndarray:
    """`inputs` [n, ...] with their `missing` values filled by the baseline `name`,
    fitted on complete `train` examples [m, ...]."""
    flat_train = train.reshape(len(train), -1).astype(np.float64)
    flat = np.where(missing, np.nan, inputs).reshape(len(inputs), -1).astype(np.float64)
    if name == "mean":
        filled = np.where(np.isnan(flat), flat_train.mean(axis=0), flat)
    elif name == "knn":
        from sklearn.impute import KNNImputer

        imputer = KNNImputer(n_neighbors=neighbors).fit(flat_train)
        filled = imputer.transform(flat)
    elif name == "iterative":
        from sklearn.experimental import enable_iterative_imputer  # noqa: F401
        from sklearn.impute import IterativeImputer

        imputer = IterativeImputer(
            max_iter=iterations,
            n_nearest_features=min(features, flat_train.shape[1] - 1),
            random_state=seed,
        ).fit(flat_train)
        filled = imputer.transform(flat)
    else:
        raise ValueError(f"Unknown imputation baseline {name!r}; choose from {BASELINES}.")
    # A dimension never observed in training has no statistics: fall back to the mean.
    filled = np.where(np.isnan(filled), flat_train.mean(axis=0), filled)
    return filled.reshape(inputs.shape).astype(np.float32)


@register_evaluator("imputation")
@options_class
class ImputationEvaluator(Evaluator):
    """For each missing fraction f (as a percentage p): p/model_mse (mean squared error
    over the missing values only, iterative model filling), p/<baseline>_mse for each
    baseline, p/best_baseline_mse and p/mse_ratio (model / best baseline: below 1, the
    model beats every baseline); p/missing_fraction. Without a percentage for a single
    fraction as well: model_mse, mean_fill_mse, mse_ratio (model / mean filling).
    """

    mask: str = option("random", "which values go missing (see missing_mask)", choices=MASKS)
    fractions: tuple[float, ...] = option(
        (0.25, 0.5, 0.75),
        "the fractions of values (or of the first axis, for block) missing",
        above=0.0,
        below=1.0,
        min_length=1,
    )
    iterations: int = option(10, "reconstruction passes of the model filling", minimum=1)
    initial: float | None = option(
        None,
        "the value missing entries start at before the first pass (None: each "
        "dimension's training mean; a model trained with the masking corruption: its "
        "fill value)",
    )
    baselines: tuple[str, ...] = option(
        BASELINES, "the classic imputers to compare with", choices=BASELINES
    )
    fit_examples: int = option(
        5_000,
        "complete training examples the baselines (and the mean) are fitted on",
        minimum=2,
    )
    knn_neighbors: int = option(10, "k of the k-nearest-neighbour imputer", minimum=1)
    iterative_features: int = option(
        40, "features each regression of the iterative imputer uses", minimum=1
    )
    iterative_iterations: int = option(5, "rounds of the iterative imputer", minimum=1)
    max_examples: int | None = option(
        1000, "the first this many evaluation examples (None: all)", minimum=1
    )

    def __call__(self, context) -> dict[str, float]:
        data = context.split("eval", labels=context.eval_labels(), max_examples=self.max_examples)
        train = context.split(
            "train", labels=context.train_labels(), max_examples=self.fit_examples
        )
        inputs = data.inputs
        mean = train.inputs.mean(axis=0)
        rng = context.rng("imputation")
        metrics: dict[str, float] = {}
        for fraction in self.fractions:
            prefix = f"{round(100 * fraction)}pct"
            missing = missing_mask(inputs.shape, self.mask, fraction, rng)
            start = mean if self.initial is None else np.full_like(mean, self.initial)
            filled = impute(
                context.model_calls.reconstruct, inputs, missing, start, self.iterations
            )
            results = {"model": float(np.mean((filled - inputs)[missing] ** 2))}
            for name in self.baselines:
                estimate = baseline_fill(
                    name,
                    train.inputs,
                    inputs,
                    missing,
                    neighbors=self.knn_neighbors,
                    features=self.iterative_features,
                    iterations=self.iterative_iterations,
                    seed=context.seed,
                )
                results[name] = float(np.mean((estimate - inputs)[missing] ** 2))
            for name, mse in results.items():
                metrics[f"{prefix}/{name}_mse"] = mse
            metrics[f"{prefix}/missing_fraction"] = float(missing.mean())
            if self.baselines:
                best = min(results[name] for name in self.baselines)
                metrics[f"{prefix}/best_baseline_mse"] = best
                metrics[f"{prefix}/mse_ratio"] = results["model"] / max(best, 1e-12)
            if len(self.fractions) == 1:
                mean_fill = np.where(missing, mean, inputs)
                metrics["model_mse"] = results["model"]
                metrics["mean_fill_mse"] = float(np.mean((mean_fill - inputs)[missing] ** 2))
                metrics["mse_ratio"] = results["model"] / max(metrics["mean_fill_mse"], 1e-12)
        return metrics
