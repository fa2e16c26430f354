"""A model's jitted train step and its fresh state, for tests that step a model
directly (without the loop)."""

import jax
import jax.numpy as jnp
import optax

from aelab.training.state import TrainState, split_model
from aelab.training.step import make_train_step


def jitted_train_step(model, objective, learning_rate: float = 1e-2, seed: int = 0):
    """(jitted make_train_step of `model` with Adam, its TrainState at step 0)."""
    graphdef, params, model_state = split_model(model)
    optimizer = optax.adam(learning_rate)
    state = TrainState(
        step=jnp.asarray(0, jnp.int32),
        params=params,
        model_state=model_state,
        opt_state=optimizer.init(params),
        rng=jax.random.PRNGKey(seed),
    )
    return jax.jit(make_train_step(graphdef, objective, optimizer)), state
