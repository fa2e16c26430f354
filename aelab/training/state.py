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


def split_model(model: nnx.Module) -> tuple[nnx.GraphDef, dict, dict]:
    """(graphdef, params, other variables) of an NNX model, as pure dicts."""
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    return graphdef, nnx.to_pure_dict(params), nnx.to_pure_dict(rest)


def merge_model(graphdef: nnx.GraphDef, params: dict, model_state: dict) -> nnx.Module:
    """The NNX model with the given parameter and variable values."""
    return nnx.merge(graphdef, params, model_state)


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
    by a jitted function that writes each array where it belongs (no host copy).

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
    graphdefs = []

    def init(key: jax.Array) -> TrainState:
        init_key, train_key = jax.random.split(key)
        model = build_model(model_config, example_shape, output_shape, rngs=nnx.Rngs(init_key))
        graphdef, params, model_state = split_model(model)
        graphdefs.append(graphdef)
        return TrainState(
            step=jnp.zeros((), jnp.int32),
            params=params,
            model_state=model_state,
            opt_state=optimizer.init(params),
            rng=train_key,
        )

    key = jax.random.PRNGKey(seed)
    abstract = jax.eval_shape(init, key)
    if state_sharding_fn is None:
        shardings = jax.tree.map(lambda _: replicated(mesh), abstract)
    else:
        shardings = state_sharding_fn(abstract, mesh)
    state = jax.jit(init, out_shardings=shardings)(key)
    return graphdefs[0], state, shardings


def parameter_count(params: dict) -> int:
    """Total number of parameter values."""
    return sum(int(p.size) for p in jax.tree.leaves(params))
