"""CPU-friendly convolutions compute exactly what lax / Flax compute."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from jax import lax

from aelab.models import build_model
from aelab.models.convolutions import (
    StrideTwoConvTranspose,
    canonical_conv,
    conv_general_dilated,
    depth_to_space,
)
from aelab.models.registry import tiny_setup

CASES = [
    # (spatial shape, window, in, out, strides, padding, lhs_dilation)
    ((9, 8), (3, 3), 3, 5, (1, 1), ((1, 1), (1, 1)), (1, 1)),
    ((9, 8), (3, 3), 3, 5, (2, 2), ((0, 1), (1, 1)), (1, 1)),
    ((7, 7), (3, 2), 4, 2, (2, 1), ((1, 1), (0, 1)), (1, 1)),
    ((5, 6), (3, 3), 2, 3, (1, 1), ((2, 1), (2, 1)), (2, 2)),  # a transposed conv
    ((12,), (5,), 3, 4, (3,), ((2, 2),), (1,)),  # 1-D
]


def _dimension_numbers(ndim):
    spatial = "DHW"[-(ndim - 2) :]
    return (f"N{spatial}C", f"{spatial}IO", f"N{spatial}C")


@pytest.mark.parametrize("case", CASES)
def test_canonical_conv_matches_lax_values_and_gradients(case):
    spatial, window, cin, cout, strides, padding, lhs_dilation = case
    kx, kw, kc = jax.random.split(jax.random.PRNGKey(0), 3)
    x = jax.random.normal(kx, (2, *spatial, cin))
    w = jax.random.normal(kw, (*window, cin, cout))

    def reference(x, w):
        return lax.conv_general_dilated(
            x,
            w,
            strides,
            padding,
            lhs_dilation=lhs_dilation,
            dimension_numbers=_dimension_numbers(x.ndim),
        )

    def ours(x, w):
        return canonical_conv(x, w, strides, padding, lhs_dilation)

    y_ref, y = reference(x, w), ours(x, w)
    np.testing.assert_allclose(y, y_ref, rtol=1e-5, atol=1e-5)
    cotangent = jax.random.normal(kc, y_ref.shape)
    grads_ref = jax.vjp(reference, x, w)[1](cotangent)
    grads = jax.vjp(ours, x, w)[1](cotangent)
    for g, g_ref in zip(grads, grads_ref, strict=True):
        np.testing.assert_allclose(g, g_ref, rtol=1e-4, atol=1e-4)


def test_drop_in_falls_back_to_lax_for_other_layouts():
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 3, 8, 8))  # NCHW
    w = jax.random.normal(jax.random.PRNGKey(1), (4, 3, 3, 3))  # OIHW
    args = ((1, 1), "SAME")
    kwargs = dict(dimension_numbers=("NCHW", "OIHW", "NCHW"))
    np.testing.assert_array_equal(
        conv_general_dilated(x, w, *args, **kwargs), lax.conv_general_dilated(x, w, *args, **kwargs)
    )


def test_gradient_convolutions_inside_a_loop_are_channels_last():
    """The point of canonical_conv: XLA CPU runs non-channels-last convolutions inside a
    while loop with a naive kernel (10-100x slower), so none may be left there."""
    x = jnp.ones((4, 8, 8, 3))
    w = jnp.ones((3, 3, 3, 5))

    def loss(xw):
        x, w = xw
        y = conv_general_dilated(x, w, (2, 2), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
        return jnp.sum(y**2)

    def step(xw, _):
        return jax.tree.map(lambda a, g: a - 0.1 * g, xw, jax.grad(loss)(xw)), None

    def steps(x, w):
        return lax.scan(step, (x, w), None, length=3)[0]

    hlo = jax.jit(steps).lower(x, w).compile().as_text()
    labels = re.findall(r"convolution\(.*?dim_labels=([^,\s]+)", hlo)
    assert len(labels) >= 3, "forward, input-gradient and weight-gradient convolutions"
    assert set(labels) == {"b01f_01io->b01f"}, labels


def test_depth_to_space_places_channels_in_2x2_blocks():
    x = jnp.arange(2 * 2 * 3 * 4 * 2).reshape(2, 2, 3, 4 * 2)
    y = depth_to_space(x, 2)
    assert y.shape == (2, 4, 6, 2)
    # Input pixel (1, 2), channel block (i=1, j=0) lands at output pixel (3, 4).
    np.testing.assert_array_equal(y[:, 3, 4, :], x[:, 1, 2, 4:6])


@pytest.mark.parametrize("method", ["transpose", "subpixel"])
@pytest.mark.parametrize("kernel_size", [2, 3, 4])
@pytest.mark.parametrize("size", [4, 7])
def test_stride_two_conv_transpose_matches_flax(method, kernel_size, size):
    ref = nnx.ConvTranspose(3, 5, (kernel_size,) * 2, strides=2, padding="SAME", rngs=nnx.Rngs(1))
    ours = StrideTwoConvTranspose(3, 5, kernel_size, method=method, rngs=nnx.Rngs(1))
    np.testing.assert_array_equal(ours.kernel[...], ref.kernel[...])
    np.testing.assert_array_equal(ours.bias[...], ref.bias[...])
    ref.bias[...] = ours.bias[...] = jnp.linspace(-1.0, 1.0, 5)
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 3, size, size, 3))  # two batch axes
    np.testing.assert_allclose(ours(x), ref(x), rtol=1e-5, atol=1e-5)


def test_unknown_transposed_conv_method_lists_the_valid_ones():
    with pytest.raises(ValueError, match="transpose, subpixel"):
        StrideTwoConvTranspose(3, 5, 3, method="pixelshuffle", rngs=nnx.Rngs(0))


@pytest.mark.slow
def test_subpixel_conv_model_is_the_transpose_model():
    """Same parameters from the same seed, same function: checkpoints are interchangeable."""
    config, shape, _ = tiny_setup("conv_ae")
    models = {}
    for mode in ("transpose", "subpixel"):
        config.upsample = mode
        models[mode] = build_model(config, shape, shape, rngs=nnx.Rngs(0))
    params = {m: nnx.to_pure_dict(nnx.state(model, nnx.Param)) for m, model in models.items()}
    jax.tree.map(np.testing.assert_array_equal, params["transpose"], params["subpixel"])
    x = jax.random.uniform(jax.random.PRNGKey(0), (4, *shape))
    np.testing.assert_allclose(
        models["subpixel"](x).decoded, models["transpose"](x).decoded, rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("conditioning", ["none", "film"])
def test_decoder_without_output_conv_ends_on_its_last_stage(conditioning):
    """output_conv=False: the last upsampling stage maps straight to the image's channels
    (Locatello et al.'s decoder): no output convolution, the same output shape, and the
    full-resolution hidden stage (and its FiLM layer) gone."""
    from aelab.models.conv import ConvDecoder, ConvOptions

    def decoder(output_conv):
        options = ConvOptions(
            channels=(4, 8),
            kernel_size=4,
            conditioning=conditioning,
            condition_dim=3,
            output_conv=output_conv,
        )
        return ConvDecoder(5, (16, 16, 2), options=options, rngs=nnx.Rngs(0))

    with_conv, without = decoder(True), decoder(False)
    assert without.out is None and len(without.films) == len(with_conv.films) // 2
    last = without.ups[-1]
    assert last.kernel[...].shape[-1] == 2  # the output channels
    z = jax.random.normal(jax.random.PRNGKey(0), (3, 5))
    condition = jnp.eye(3) if conditioning == "film" else None
    out = without(z, train=False, rngs=None, condition=condition)
    assert out.shape == (3, 16, 16, 2) and np.isfinite(np.asarray(out)).all()
    count = lambda m: sum(p.size for p in jax.tree.leaves(nnx.state(m, nnx.Param)))
    assert count(without) < count(with_conv)
