"""The run's own objective on the evaluation split: the numbers training logs as eval/*
(measured there on the validation split), reported on the split results are given on
(the test ELBO of a VAE, the test accuracy of a classifier)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from aelab.core.options import option, options_class
from aelab.evaluation.registry import Evaluator, register_evaluator
from aelab.objectives.adversarial import is_adversarial
from aelab.training.state import TrainState
from aelab.training.step import make_eval_step


@register_evaluator("objective")
@options_class
class ObjectiveEvaluator(Evaluator):
    """The objective's metrics (loss, and e.g. elbo, kl, reconstruction_nll, mse or
    accuracy), averaged exactly over the evaluation split, computed as in the training
    loop's evaluation (evaluation mode; one posterior sample per example for a VAE, from
    a fixed key); a conditional model reads each example's label. The inputs are the
    clean data (a run trained on corrupted inputs is scored on clean ones).

    Options:
      max_examples: the first this many examples (None: the whole split).
      batch_size: examples per jitted call.
    """

    max_examples: int | None = option(
        None, "the first this many evaluation examples (None: all)", minimum=1
    )
    batch_size: int = option(500, "examples per jitted call", minimum=1)

    def __call__(self, context) -> dict[str, float]:
        run = context.run
        if is_adversarial(run.spec.objective):
            raise ValueError(
                "evaluator 'objective' scores objectives without a discriminator; this run's "
                f"{run.config.objective.name!r} trains one. Use reconstruction or likelihood."
            )
        data = context.split("eval", labels=context.eval_labels(), max_examples=self.max_examples)
        state = TrainState(
            step=jnp.asarray(run.step, jnp.int32),
            params=run.params,
            model_state=run.model_state,
            opt_state=None,
            rng=jax.random.PRNGKey(0),
        )
        eval_step = jax.jit(make_eval_step(run.graphdef, run.spec.objective))
        key = context.key("objective")
        totals: dict[str, float] = {}
        count = 0.0
        for index, start in enumerate(range(0, len(data), self.batch_size)):
            batch = _padded_batch(data, start, self.batch_size)
            sums, real = eval_step(state, batch, jax.random.fold_in(key, index))
            for name, value in jax.device_get(sums).items():
                totals[name] = totals.get(name, 0.0) + float(value)
            count += float(real)
        return {name: value / count for name, value in totals.items()}


def _padded_batch(data, start: int, size: int) -> dict[str, np.ndarray]:
    """Rows [start, start + size) of the split as a batch of `size`: padded with copies
    of its first row, "mask" 0 on the padding."""
    inputs = data.inputs[start : start + size]
    real = len(inputs)
    pad = size - real

    def padded(a):
        return np.concatenate([a, np.repeat(a[:1], pad, axis=0)]) if pad else a

    batch = {"inputs": padded(inputs), "mask": (np.arange(size) < real).astype(np.float32)}
    if data.labels is not None:
        batch["label"] = padded(data.labels[start : start + size])
    return batch
