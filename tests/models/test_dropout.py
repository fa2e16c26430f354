"""Dropout with its rate in the model state (so populations can vary it)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from aelab.models.layers import Dropout


def test_dropout_keeps_expected_fraction_and_scales():
    layer = Dropout(0.25)
    x = jnp.ones((200, 100))
    y = layer(x, deterministic=False, rngs=nnx.Rngs(0))
    kept = np.asarray(y) != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(np.asarray(y)[kept], 1 / 0.75, rtol=1e-6)
    assert layer(x, deterministic=True, rngs=None) is x


def test_dropout_rate_is_state_not_structure():
    layer = Dropout(0.1)
    state = nnx.to_pure_dict(nnx.state(layer))
    assert float(state["rate"]) == pytest.approx(0.1)
    # Same graph for another rate: only the state differs.
    assert nnx.graphdef(layer) == nnx.graphdef(Dropout(0.4))
    assert jax.tree.structure(state) == jax.tree.structure(
        nnx.to_pure_dict(nnx.state(Dropout(0.4)))
    )


@pytest.mark.parametrize("rate", [-0.1, 1.0])
def test_dropout_rate_outside_zero_one_is_refused(rate):
    with pytest.raises(ValueError, match="outside"):
        Dropout(rate)
