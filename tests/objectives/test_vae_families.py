"""The objectives that add terms to the ELBO (beta-TC-VAE, DIP-VAE, annealed capacity),
chosen by `config.objective.name` in a whole config, pass validation and give finite
gradients with a dense and a convolutional VAE."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from aelab.config import base_config, validate_config
from aelab.models import build_model
from aelab.objectives import build_objective

_OPTIONS = {
    "beta_tc_vae": {"estimator": "mss", "dataset_size": 1_437},  # the digits' train split
    "dip_vae": {"kind": "ii"},
    "annealed_vae": {"capacity_steps": 100, "c_max": 5.0},
}
_MODELS = {"dense_vae": {"hidden_dims": (16,)}, "conv_vae": {"channels": (4, 8)}}


# Every objective's loss and gradients are checked in the README tier by
# tests/objectives/test_every_objective.py; these whole-config runs are in the slow tier.
@pytest.mark.slow
@pytest.mark.parametrize("model_name", sorted(_MODELS))
@pytest.mark.parametrize("objective_name", sorted(_OPTIONS))
def test_the_objective_trains_the_vae_family(objective_name, model_name):
    config = base_config(data="digits", model=model_name, objective=objective_name)
    config.mesh.num_devices = 1
    config.data.batch_size = 16
    config.model.update({"latent_dim": 4, **_MODELS[model_name]})
    config.objective.update(_OPTIONS[objective_name])
    validate_config(config)

    objective = build_objective(config.objective)
    shape = (8, 8, 1)
    model = build_model(
        config.model, shape, objective.decoder_output_shape(shape), rngs=nnx.Rngs(0)
    )
    graphdef, state = nnx.split(model)
    x = jax.random.uniform(jax.random.PRNGKey(0), (16, *shape))

    @jax.jit
    def gradients(state):
        def loss_fn(state):
            loss, metrics = objective(
                nnx.merge(graphdef, state), {"inputs": x}, rngs=nnx.Rngs(1), train=True, step=50
            )
            return loss, metrics

        return jax.grad(loss_fn, has_aux=True)(state)

    grads, metrics = gradients(state)
    assert all(np.all(np.isfinite(g)) for g in jax.tree.leaves(grads))
    assert all(np.isfinite(v) for v in metrics.values())
    assert float(jnp.sum(jnp.abs(jnp.concatenate([g.ravel() for g in jax.tree.leaves(grads)])))) > 0
