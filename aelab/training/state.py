"""The train state: everything that changes during training, as one pytree."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import nnx, struct
from jax.sharding import Mesh

from aelab.models import build_model
from aelab.models.ensemble import is_ensemble
from aelab.objectives import Objective
from aelab.objectives.adversarial import is_adversarial
from aelab.training.mesh import replicated


@struct.dataclass
class TrainState:
    """Parameters, optimizer state and the rest of a run's mutable state.

    Attributes:
      step: int32 scalar, the number of optimizer updates done.
      params: the model's `nnx.Param` values as a nested dict.
      model_state: the model's other variables (batch-norm statistics, EMA codebooks),
        as a nested dict; empty for most models.
      opt_state: the optax state.
      rng: uint32 [2] base key; step t uses `fold_in(rng, t)`.
    """

    step: jax.Array
    params: dict
    model_state: dict
    opt_state: Any
    rng: jax.Array


@struct.dataclass
class AdversarialTrainState(TrainState):
    """A `TrainState` plus the discriminator of an adversarial objective
    (`aelab.objectives.adversarial`), trained by its own optimizer in the same step.

    Attributes:
      discriminator_params: the discriminator's `nnx.Param` values, nested dict.
      discriminator_state: its other variables, nested dict (empty for most).
      discriminator_opt_state: the discriminator optimizer's optax state.
    """

    discriminator_params: dict
    discriminator_state: dict
    discriminator_opt_state: Any


def split_model(model: nnx.Module) -> tuple[nnx.GraphDef, dict, dict]:
    """(graphdef, params, other variables) of an NNX model, as pure dicts."""
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    return graphdef, nnx.to_pure_dict(params), nnx.to_pure_dict(rest)


def merge_model(graphdef: nnx.GraphDef, params: dict, model_state: dict) -> nnx.Module:
    """The NNX model with the given parameter and variable values."""
    return nnx.merge(graphdef, params, model_state)


def init_train_state(
    model_config,
    example_shape: Sequence[int],
    output_shape: Sequence[int],
    optimizer: optax.GradientTransformation,
    key: jax.Array,
    *,
    objective: Objective | None = None,
    discriminator_optimizer: optax.GradientTransformation | None = None,
) -> tuple[TrainState, tuple[nnx.GraphDef, nnx.GraphDef | None]]:
    """A fresh train state from `key`: (state, (model graphdef, discriminator graphdef
    or None)). With an adversarial `objective` it is an `AdversarialTrainState`, whose
    discriminator the objective builds and `discriminator_optimizer` trains; traceable
    (`jax.eval_shape`, `jax.jit`)."""
    init_key, train_key = jax.random.split(key)
    model = build_model(model_config, example_shape, output_shape, rngs=nnx.Rngs(init_key))
    graphdef, params, model_state = split_model(model)
    fields = dict(
        step=jnp.zeros((), jnp.int32),
        params=params,
        model_state=model_state,
        opt_state=optimizer.init(params),
        rng=train_key,
    )
    if objective is None or not is_adversarial(objective):
        return TrainState(**fields), (graphdef, None)
    if discriminator_optimizer is None:
        raise ValueError("An adversarial objective needs a discriminator_optimizer.")
    if is_ensemble(model):
        raise ValueError(
            f"config.model.ensemble_members={model.num_members}: an adversarial objective "
            f"({type(objective).__name__}) trains one generator against its discriminator; "
            "set config.model.ensemble_members=1."
        )
    # Its own key: the model's initialisation stays what it is without a discriminator.
    discriminator = objective.build_discriminator(
        model, example_shape, rngs=nnx.Rngs(jax.random.fold_in(init_key, 1))
    )
    d_graphdef, d_params, d_state = split_model(discriminator)
    state = AdversarialTrainState(
        **fields,
        discriminator_params=d_params,
        discriminator_state=d_state,
        discriminator_opt_state=discriminator_optimizer.init(d_params),
    )
    return state, (graphdef, d_graphdef)


def create_train_state(
    model_config,
    example_shape: Sequence[int],
    output_shape: Sequence[int],
    optimizer: optax.GradientTransformation,
    *,
    seed: int,
    mesh: Mesh,
    state_sharding_fn: Callable[[Any, Mesh], Any] | None = None,
) -> tuple[nnx.GraphDef, TrainState, Any]:
    """Builds the model and its train state directly into the state's shardings.

    The state is traced once with `jax.eval_shape` to plan shardings, then initialised
    by a jitted function that writes each array where it belongs (no host copy). One
    model, one optimizer: an adversarial objective's state (with its discriminator, and
    the discriminator's graphdef this function could not return) comes from
    `create_train_state_with_discriminator`.

    Args:
      model_config: `config.model`.
      example_shape: shape of one (transformed) input example.
      output_shape: shape of the decoder output for one example.
      optimizer: the optax transformation.
      seed: initialisation seed (parameters and the training rng derive from it).
      mesh: the device mesh.
      state_sharding_fn: (abstract_state, mesh) -> pytree of shardings; everything
        replicated by default.

    Returns:
      (graphdef, state, state_shardings).
    """
    graphdef, _, state, shardings = create_train_state_with_discriminator(
        model_config,
        example_shape,
        output_shape,
        optimizer,
        seed=seed,
        mesh=mesh,
        state_sharding_fn=state_sharding_fn,
    )
    return graphdef, state, shardings


def create_train_state_with_discriminator(
    model_config,
    example_shape: Sequence[int],
    output_shape: Sequence[int],
    optimizer: optax.GradientTransformation,
    *,
    seed: int,
    mesh: Mesh,
    state_sharding_fn: Callable[[Any, Mesh], Any] | None = None,
    objective: Objective | None = None,
    discriminator_optimizer: optax.GradientTransformation | None = None,
) -> tuple[nnx.GraphDef, nnx.GraphDef | None, TrainState, Any]:
    """As `create_train_state`, with the objective: an adversarial one (`objective`
    builds a discriminator, trained by `discriminator_optimizer`) adds the discriminator
    to the state (`AdversarialTrainState`), laid out like the model (the same
    `state_sharding_fn` applies to the whole state).

    Returns:
      (graphdef, discriminator graphdef or None, state, state_shardings).
    """
    graphdefs = []

    def init(key: jax.Array) -> TrainState:
        state, defs = init_train_state(
            model_config,
            example_shape,
            output_shape,
            optimizer,
            key,
            objective=objective,
            discriminator_optimizer=discriminator_optimizer,
        )
        graphdefs.append(defs)
        return state

    key = jax.random.PRNGKey(seed)
    abstract = jax.eval_shape(init, key)
    if state_sharding_fn is None:
        shardings = jax.tree.map(lambda _: replicated(mesh), abstract)
    else:
        shardings = state_sharding_fn(abstract, mesh)
    state = jax.jit(init, out_shardings=shardings)(key)
    graphdef, d_graphdef = graphdefs[0]
    return graphdef, d_graphdef, state, shardings


def parameter_count(params: dict) -> int:
    """Total number of parameter values."""
    return sum(int(p.size) for p in jax.tree.leaves(params))
