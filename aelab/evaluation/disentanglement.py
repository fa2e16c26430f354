"""Disentanglement: how the codes of a model trained on a data set generated from known
factors (dSprites) line up with those factors.

The metrics (`aelab.evaluation.disentanglement_metrics`) read the codes (a VAE's
posterior means) of two kinds of examples:

- a random sample of the evaluation split with the factors its records carry
  (`factors`): MIG, SAP, DCI, modularity, explicitness, active units;
- examples made for chosen factor classes by the data set's record source
  (`aelab.data.factors.FactorSource.records_of_factors`), drawn from the whole factor
  grid whatever the split, as disentanglement_lib does: the BetaVAE score (pairs that
  share one factor) and the FactorVAE score (batches that share one factor).

It also writes one latent traversal grid per code dimension, `traversal_dim_<i>.png`:
each row decodes an example's code with dimension i moved from -3 to +3 (prior standard
deviations for a VAE, standard deviations of that dimension's codes otherwise) around
its value.
"""

from __future__ import annotations

import numpy as np

from aelab.core.options import option, options_class
from aelab.data import load_split
from aelab.data.factors import FactorSource
from aelab.evaluation import disentanglement_metrics as metrics
from aelab.evaluation.registry import Evaluator, register_evaluator
from aelab.visualization import image_grid, save_png

_LOAD_CHUNK = 4096  # records made and transformed at a time


def _factor_source(context) -> FactorSource:
    """The data set's record source as a `FactorSource`, or one line saying why not."""
    source, info = load_split(context.config.data, context.pipeline.eval_split)
    if not isinstance(source, FactorSource):
        raise ValueError(
            f"The disentanglement evaluator needs a data set generated from known factors "
            f"(dsprites, dsprites_small); {info.name!r} has none: remove 'disentanglement' "
            "from config.evals or train on such a data set."
        )
    return source


def _model_inputs(context, raw: dict[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Raw records -> the clean inputs the model sees: float32 [n, ...]."""
    n = len(raw[context.spec.info.input_key])
    batch = context.spec.transform(raw, rng=rng, global_batch_size=n, local_rows=slice(0, n))
    return batch.get("targets", batch["inputs"])


@register_evaluator("disentanglement")
@options_class
class DisentanglementEvaluator(Evaluator):
    """Metrics: beta_vae_score, factor_vae_score, mig, sap, dci_disentanglement,
    dci_completeness, dci_informativeness, modularity, explicitness, active_units,
    code_size; and num_plots (the traversal grids written). See the module docstring
    and docs/evaluation.md.
    """

    fit_examples: int = option(
        4000,
        "evaluation-split examples the SAP, DCI and explicitness predictors are fitted on",
        minimum=10,
    )
    score_examples: int = option(
        2000,
        "further evaluation-split examples those predictors are scored on (MIG and "
        "modularity read both sets)",
        minimum=10,
    )
    bins: int = option(20, "bins per code dimension for mutual information", minimum=2)
    batch_size: int = option(
        64, "examples per BetaVAE pair batch and per FactorVAE vote", minimum=2
    )
    classifier_fit_points: int = option(
        1000,
        "BetaVAE / FactorVAE classifier inputs (batches) to fit on (disentanglement_lib: 10,000)",
        minimum=10,
    )
    classifier_score_points: int = option(
        500,
        "BetaVAE / FactorVAE classifier inputs (batches) to score on (disentanglement_lib: 5,000)",
        minimum=1,
    )
    variance_examples: int = option(
        5000, "examples the FactorVAE score's per-dimension scale is taken over", minimum=2
    )
    dci_estimators: int = option(
        10,
        "boosting stages of each DCI tree classifier (disentanglement_lib: 100)",
        minimum=1,
    )
    active_threshold: float = option(
        0.01, "variance of the posterior means above which a dimension is active", above=0.0
    )
    traversal_examples: int = option(
        5, "rows of each traversal grid (examples); 0: no grids", minimum=0
    )
    traversal_steps: int = option(9, "columns of each traversal grid", minimum=2)

    def __call__(self, context) -> dict[str, float]:
        factor_source = _factor_source(context)
        rng = context.rng("disentanglement")
        calls = context.model_calls
        varying = [j for j, size in enumerate(factor_source.factor_sizes) if size > 1]
        sizes = tuple(factor_source.factor_sizes[j] for j in varying)

        def encode(factors: np.ndarray) -> np.ndarray:
            full = np.zeros((len(factors), len(factor_source.factor_sizes)), np.int64)
            full[:, varying] = factors
            raw = factor_source.records_of_factors(full)
            return calls.codes(_model_inputs(context, raw, rng))

        codes, factors, inputs = self._sample(context, rng)
        factors = factors[:, varying]
        fit = slice(0, min(self.fit_examples, len(codes) // 2))
        score = slice(fit.stop, None)
        predictive = (codes[fit], factors[fit], codes[score], factors[score])
        results = {
            "beta_vae_score": metrics.beta_vae_score(
                encode,
                sizes,
                rng,
                batch_size=self.batch_size,
                num_train=self.classifier_fit_points,
                num_eval=self.classifier_score_points,
            ),
            "factor_vae_score": metrics.factor_vae_score(
                encode,
                sizes,
                rng,
                batch_size=self.batch_size,
                num_train=self.classifier_fit_points,
                num_eval=self.classifier_score_points,
                num_variance_estimate=self.variance_examples,
            ),
            "mig": metrics.mig(codes, factors, bins=self.bins),
            "sap": metrics.sap(*predictive),
            **metrics.dci(*predictive, estimators=self.dci_estimators, seed=context.seed),
            "modularity": metrics.modularity(codes, factors, bins=self.bins),
            "explicitness": metrics.explicitness(*predictive),
            "active_units": float(metrics.active_units(codes, self.active_threshold)),
            "code_size": float(codes.shape[1]),
        }
        results["num_plots"] = float(self._traversals(context, inputs, codes))
        return results

    def _sample(self, context, rng: np.random.Generator):
        """Codes [n, d], factors [n, k] and the first examples' inputs of a random
        sample of the evaluation split."""
        source = context.source("eval")
        wanted = self.fit_examples + self.score_examples
        if len(source) < 4:
            raise ValueError(
                f"The disentanglement evaluator needs at least 4 evaluation examples; "
                f"{source!r} has {len(source)}."
            )
        indices = rng.choice(len(source), size=min(wanted, len(source)), replace=False)
        codes, factors, first = [], [], None
        for start in range(0, len(indices), _LOAD_CHUNK):
            raw = source.get_batch(indices[start : start + _LOAD_CHUNK])
            if "factors" not in raw:
                raise ValueError(
                    f"The disentanglement evaluator needs records with 'factors'; {source!r} "
                    f"has {sorted(raw)}."
                )
            inputs = _model_inputs(context, raw, rng)
            first = inputs[: self.traversal_examples] if first is None else first
            codes.append(context.model_calls.codes(inputs))
            factors.append(raw["factors"])
        return np.concatenate(codes), np.concatenate(factors), first

    def _traversals(self, context, inputs: np.ndarray, codes: np.ndarray) -> int:
        """Writes traversal_dim_<i>.png for every code dimension i; returns how many."""
        if not (self.traversal_examples and context.is_chief and context.is_image):
            return 0
        calls = context.model_calls
        means, _ = calls.encode(inputs)
        latent_shape, base = means.shape[1:], means.reshape(len(means), -1)
        spread = 3.0 * (np.ones(base.shape[1]) if calls.is_variational else codes.std(axis=0))
        offsets = np.linspace(-1.0, 1.0, self.traversal_steps)
        shape = context.display_shape
        for dim in range(base.shape[1]):
            rows = np.repeat(base[:, None, :], self.traversal_steps, axis=1)
            rows[:, :, dim] = base[:, dim : dim + 1] + offsets * spread[dim]
            decoded = calls.decode(rows.reshape(-1, *latent_shape).astype(np.float32))
            grid = image_grid(decoded.reshape(len(decoded), *shape), columns=self.traversal_steps)
            path = context.plot_path(f"traversal_dim_{dim:02d}.png")
            save_png(grid, path, scale=max(1, 56 // shape[0]))
        return base.shape[1]
