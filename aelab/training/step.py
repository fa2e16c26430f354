"""The jitted train and evaluation steps."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax
from flax import nnx

from aelab.core.contract import bind_condition
from aelab.core.options import Options, option, options_class
from aelab.models.ensemble import objective_over_members
from aelab.objectives import Objective
from aelab.objectives.adversarial import AdversarialObjective
from aelab.objectives.base import targets_of
from aelab.training.state import AdversarialTrainState, TrainState, merge_model

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
    plus "grad_norm" and "learning_rate". A conditional model is handed to the
    objective with the batch's condition bound (`aelab.core.contract.bind_condition`).

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
            # A conditional model reads the batch's labels (aelab.core.contract); an
            # ensemble's members are each trained by the objective.
            loss, metrics = objective_over_members(
                objective,
                bind_condition(model, model_batch),
                model_batch,
                rngs=nnx.Rngs(key),
                train=True,
                step=state.step,
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


def make_adversarial_train_step(
    graphdef: nnx.GraphDef,
    discriminator_graphdef: nnx.GraphDef,
    objective: AdversarialObjective,
    optimizer: optax.GradientTransformation,
    discriminator_optimizer: optax.GradientTransformation,
    learning_rate_fn: optax.Schedule | None = None,
    discriminator_learning_rate_fn: optax.Schedule | None = None,
) -> Callable[[AdversarialTrainState, dict], tuple[AdversarialTrainState, Metrics]]:
    """One update of the model and one of its discriminator, from the same batch:
    (state, batch) -> (new state, metrics).

    The model's loss is scored with the discriminator's current parameters (the model's
    gradient flows through the discriminator, whose parameters stay fixed there). The
    discriminator's loss reads what the model's forward pass produced for it (latent
    samples, reconstructions) with the gradient stopped, so each network moves only on
    its own loss; both updates start from the same state (simultaneous updates). Before
    `objective.discriminator_active(step)` holds, the discriminator's parameters and
    optimizer state are kept as they are.

    Randomness: the model's is `fold_in(state.rng, state.step)` as in
    `make_train_step`; the discriminator's is that key folded with 1. Metrics: the
    model's (as `make_train_step`'s), plus "discriminator_loss",
    "discriminator_<name>" for each of its other metrics, "discriminator_grad_norm"
    and "discriminator_learning_rate".
    """

    def train_step(
        state: AdversarialTrainState, batch: dict
    ) -> tuple[AdversarialTrainState, Metrics]:
        key = jax.random.fold_in(state.rng, state.step)
        discriminator_key = jax.random.fold_in(key, 1)

        def discriminator_of(params):
            return merge_model(discriminator_graphdef, params, state.discriminator_state)

        def loss_fn(params):
            model = merge_model(graphdef, params, state.model_state)
            loss, metrics, seen = objective.generator_loss(
                model,
                discriminator_of(state.discriminator_params),
                batch,
                rngs=nnx.Rngs(key),
                train=True,
                step=state.step,
            )
            model_state = nnx.to_pure_dict(nnx.state(model, nnx.Not(nnx.Param)))
            return loss, (metrics, model_state, seen)

        grads, (metrics, model_state, seen) = jax.grad(loss_fn, has_aux=True)(state.params)
        seen = jax.lax.stop_gradient(seen)

        def discriminator_loss_fn(params):
            discriminator = discriminator_of(params)
            loss, d_metrics = objective.discriminator_loss(
                discriminator, seen, batch, rngs=nnx.Rngs(discriminator_key), step=state.step
            )
            d_state = nnx.to_pure_dict(nnx.state(discriminator, nnx.Not(nnx.Param)))
            return loss, (d_metrics, d_state)

        d_grads, (d_metrics, d_state) = jax.grad(discriminator_loss_fn, has_aux=True)(
            state.discriminator_params
        )
        updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        d_updates, d_opt_state = discriminator_optimizer.update(
            d_grads, state.discriminator_opt_state, state.discriminator_params
        )
        d_params = optax.apply_updates(state.discriminator_params, d_updates)
        active = objective.discriminator_active(state.step)
        (d_params, d_opt_state, d_state) = jax.tree.map(
            lambda new, old: jnp.where(active, new, old),
            (d_params, d_opt_state, d_state),
            (state.discriminator_params, state.discriminator_opt_state, state.discriminator_state),
        )
        metrics = dict(metrics, grad_norm=optax.tree.norm(grads))
        metrics.update({f"discriminator_{name}": value for name, value in d_metrics.items()})
        metrics["discriminator_grad_norm"] = optax.tree.norm(d_grads)
        if learning_rate_fn is not None:
            metrics["learning_rate"] = jnp.asarray(learning_rate_fn(state.step), jnp.float32)
        if discriminator_learning_rate_fn is not None:
            metrics["discriminator_learning_rate"] = jnp.asarray(
                discriminator_learning_rate_fn(state.step), jnp.float32
            )
        new_state = state.replace(
            step=state.step + 1,
            params=params,
            model_state=model_state,
            opt_state=opt_state,
            discriminator_params=d_params,
            discriminator_state=d_state,
            discriminator_opt_state=d_opt_state,
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
    graphdef: nnx.GraphDef,
    objective: Objective,
    discriminator_graphdef: nnx.GraphDef | None = None,
) -> Callable[[TrainState, dict, jax.Array], tuple[Metrics, jax.Array]]:
    """(state, batch, key) -> (metric sums over real examples, number of real examples).

    Evaluation runs the model in eval mode (no dropout, running batch statistics). The
    objective's metrics are batch means over real examples; multiplying by the count
    lets the caller average exactly over a split whose last batch is padded. With a
    `discriminator_graphdef` (an adversarial objective's state), the model's loss
    includes the discriminator's terms, as in training.
    """

    def eval_step(state: TrainState, batch: dict, key: jax.Array) -> tuple[Metrics, jax.Array]:
        model = merge_model(graphdef, state.params, state.model_state)
        if discriminator_graphdef is None:
            _, metrics = objective_over_members(
                objective,
                bind_condition(model, batch),
                batch,
                rngs=nnx.Rngs(key),
                train=False,
                step=state.step,
            )
        else:
            discriminator = merge_model(
                discriminator_graphdef, state.discriminator_params, state.discriminator_state
            )
            _, metrics, _ = objective.generator_loss(
                model, discriminator, batch, rngs=nnx.Rngs(key), train=False, step=state.step
            )
        count = jnp.sum(batch["mask"])
        return {name: value * count for name, value in metrics.items()}, count

    return eval_step
