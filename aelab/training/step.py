"""The jitted train and evaluation steps."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax
from flax import nnx

from aelab.core.options import Options, option, options_class
from aelab.objectives import Objective
from aelab.objectives.base import targets_of
from aelab.training.state import TrainState, merge_model

Metrics = dict[str, jax.Array]

COMPUTE_DTYPES = ("float32", "bfloat16")


@options_class
class PrecisionOptions(Options):
    """`config.train` option of the compute precision."""

    compute_dtype: str = option(
        "float32",
        "'bfloat16': mixed precision (bf16 compute, float32 parameters and optimizer state)",
        choices=COMPUTE_DTYPES,
    )


def cast_floating(tree, dtype):
    """Casts the floating-point leaves of `tree` to `dtype`; other leaves stay as they are."""
    return jax.tree.map(
        lambda x: x.astype(dtype) if jnp.issubdtype(x.dtype, jnp.floating) else x, tree
    )


def _compute_dtype(name: str | None):
    if name in (None, "float32"):
        return None
    if name not in COMPUTE_DTYPES:
        raise ValueError(f"compute_dtype={name!r} is not one of {', '.join(COMPUTE_DTYPES)}.")
    return jnp.dtype(name)


def make_train_step(
    graphdef: nnx.GraphDef,
    objective: Objective,
    optimizer: optax.GradientTransformation,
    learning_rate_fn: optax.Schedule | None = None,
    *,
    compute_dtype: str | None = None,
) -> Callable[[TrainState, dict], tuple[TrainState, Metrics]]:
    """One optimizer update: (state, batch) -> (new state, metrics).

    The batch is a dict of global arrays [batch, ...]. The step's randomness (dropout,
    posterior samples) is `fold_in(state.rng, state.step)`, so it depends on the step
    alone and a resumed run repeats it exactly. Metrics are scalars: the objective's,
    plus "grad_norm" and "learning_rate".

    `compute_dtype="bfloat16"` is mixed precision: the model runs on bfloat16 copies of
    the parameters and inputs, while the parameters, their gradients, the optimizer
    state, the model's other variables (batch-norm statistics) and the targets the
    likelihood scores stay float32. Flax promotes mixed operands to float32, so a layer
    that reads float32 variables (batch norm) computes in float32 from there on.
    """
    compute = _compute_dtype(compute_dtype)

    def train_step(state: TrainState, batch: dict) -> tuple[TrainState, Metrics]:
        key = jax.random.fold_in(state.rng, state.step)

        def loss_fn(params):
            model_params, model_batch = params, batch
            if compute is not None:
                model_params = cast_floating(params, compute)
                model_batch = dict(
                    batch, targets=targets_of(batch), inputs=batch["inputs"].astype(compute)
                )
            model = merge_model(graphdef, model_params, state.model_state)
            loss, metrics = objective(
                model, model_batch, rngs=nnx.Rngs(key), train=True, step=state.step
            )
            model_state = nnx.to_pure_dict(nnx.state(model, nnx.Not(nnx.Param)))
            if compute is not None:
                loss, metrics = cast_floating((loss, metrics), jnp.float32)
            return loss, (metrics, model_state)

        grads, (metrics, model_state) = jax.grad(loss_fn, has_aux=True)(state.params)
        updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        metrics = dict(metrics, grad_norm=optax.tree.norm(grads))
        if learning_rate_fn is not None:
            metrics["learning_rate"] = jnp.asarray(learning_rate_fn(state.step), jnp.float32)
        new_state = state.replace(
            step=state.step + 1, params=params, model_state=model_state, opt_state=opt_state
        )
        return new_state, metrics

    return train_step


def fuse_steps(
    train_step: Callable[[TrainState, dict], tuple[TrainState, Metrics]],
) -> Callable[[TrainState, dict], tuple[TrainState, Metrics]]:
    """K updates in one call with `lax.scan`: batches [K, batch, ...] -> metrics [K].

    One host call per K steps keeps the device busy when a step is short. K = 1 is a
    plain call, not a scan: XLA:CPU runs convolutions inside a loop body (what `scan`
    lowers to) on a much slower path (a small ResNet encoder's gradient: 4.2 s in a
    length-1 scan against 71 ms outside, jaxlib 0.10.2).
    """

    def train_steps(state: TrainState, batches: dict) -> tuple[TrainState, Metrics]:
        if jax.tree.leaves(batches)[0].shape[0] == 1:
            state, metrics = train_step(state, jax.tree.map(lambda b: b[0], batches))
            return state, jax.tree.map(lambda m: m[None], metrics)
        return jax.lax.scan(train_step, state, batches)

    return train_steps


def make_eval_step(
    graphdef: nnx.GraphDef, objective: Objective
) -> Callable[[TrainState, dict, jax.Array], tuple[Metrics, jax.Array]]:
    """(state, batch, key) -> (metric sums over real examples, number of real examples).

    Evaluation runs the model in eval mode (no dropout, running batch statistics). The
    objective's metrics are batch means over real examples; multiplying by the count
    lets the caller average exactly over a split whose last batch is padded.
    """

    def eval_step(state: TrainState, batch: dict, key: jax.Array) -> tuple[Metrics, jax.Array]:
        model = merge_model(graphdef, state.params, state.model_state)
        _, metrics = objective(model, batch, rngs=nnx.Rngs(key), train=False, step=state.step)
        count = jnp.sum(batch["mask"])
        return {name: value * count for name, value in metrics.items()}, count

    return eval_step
