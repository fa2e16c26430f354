"""Convolution layers whose gradients stay on XLA CPU's fast path, inside loops too.

XLA's CPU backend runs a convolution with its fast kernels (YNNPACK or Eigen) only when
the operands are in channels-last order: input [batch, *spatial, features], kernel
[*spatial, in, out]. The gradients JAX derives for a convolution are convolutions in
other orders (the weight gradient contracts over the batch axis), and the XLA pass that
inserts transposes to fix this (`convolution-canonicalization`) visits only the entry
computation. Inside a `while` loop, which is what `lax.scan` over fused train steps
compiles to, those gradient convolutions fall back to a naive loop nest: on a 2-core
AMD EPYC with jaxlib 0.10.2, a 3x3 32->32 conv's weight gradient at batch 128, 28x28 took
~12 s instead of ~0.1 s, and a stride-2 layer's gradients 10x longer than outside a loop.

`canonical_conv` computes the same convolution with a custom VJP whose two gradient
convolutions are channels-last convolutions with explicit transposes around them, so
every convolution of a train step is on the fast path wherever it runs. Its values and
gradients equal `lax.conv_general_dilated`'s (bitwise on that CPU; the test compares
them to 1e-6). `conv_general_dilated` is a drop-in for `lax.conv_general_dilated`
(pass it to `nnx.Conv(conv_general_dilated=...)`) that takes this path on the CPU
backend and leaves every other backend's convolutions exactly as they were;
`conv_layer` is an `nnx.Conv` that uses it.

`StrideTwoConvTranspose` is a 'SAME' stride-2 transposed convolution (the parameters and
function of `nnx.ConvTranspose`) computed either as an input-dilated convolution
("transpose", what `lax.conv_transpose` does) or as a convolution with a small window to
4x the output features followed by depth-to-space ("subpixel", Shi et al. 2016): the same
function and the same parameters, but only plain convolutions, which XLA's CPU kernels
run faster than input-dilated ones.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from jax import lax

Padding = tuple[tuple[int, int], ...]


def _channels_last(num_spatial: int) -> lax.ConvDimensionNumbers:
    spatial = "DHW"[-num_spatial:]
    return lax.conv_dimension_numbers(
        (1,) * (num_spatial + 2),
        (1,) * (num_spatial + 2),
        (f"N{spatial}C", f"{spatial}IO", f"N{spatial}C"),
    )


def _conv(x, w, strides, padding, lhs_dilation, rhs_dilation, precision):
    return lax.conv_general_dilated(
        x,
        w,
        strides,
        padding,
        lhs_dilation=lhs_dilation,
        rhs_dilation=rhs_dilation,
        dimension_numbers=_channels_last(x.ndim - 2),
        precision=precision,
    )


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4, 5))
def canonical_conv(
    x: jax.Array,
    w: jax.Array,
    strides: tuple[int, ...],
    padding: Padding,
    lhs_dilation: tuple[int, ...],
    precision=None,
) -> jax.Array:
    """A channels-last convolution whose gradients are channels-last convolutions.

    Args:
      x: [batch, *spatial, in_features].
      w: [*window, in_features, out_features].
      strides: window strides, one per spatial axis.
      padding: explicit (low, high) padding per spatial axis.
      lhs_dilation: input dilation per spatial axis (>1 for transposed convolutions).
      precision: passed to `lax.conv_general_dilated`.

    Returns:
      [batch, *out_spatial, out_features], as `lax.conv_general_dilated` computes it.
    """
    ones = (1,) * len(strides)
    return _conv(x, w, strides, padding, lhs_dilation, ones, precision)


def _canonical_conv_fwd(x, w, strides, padding, lhs_dilation, precision):
    return canonical_conv(x, w, strides, padding, lhs_dilation, precision), (x, w)


def _canonical_conv_bwd(strides, padding, lhs_dilation, precision, residuals, dy):
    x, w = residuals
    n = x.ndim - 2
    ones = (1,) * n
    pads_dx, pads_dw = [], []
    for axis in range(n):
        k, size, out = w.shape[axis], x.shape[1 + axis], dy.shape[1 + axis]
        s, d, (low, _) = strides[axis], lhs_dilation[axis], padding[axis]
        # Along one axis the forward computes y[o] = sum_t xp[o * s + t] w[t], where xp is
        # x dilated by d and padded. dx is a correlation of dy (dilated by s) with the
        # flipped kernel, read every d-th position; dw correlates xp with dy dilated by s.
        dilated_dy = (out - 1) * s + 1
        before = k - 1 - low
        pads_dx.append((before, (size - 1) * d + k - dilated_dy - before))
        pads_dw.append((low, dilated_dy + k - 1 - ((size - 1) * d + 1) - low))
    spatial = tuple(range(n))
    flipped = jnp.swapaxes(jnp.flip(w, spatial), -1, -2)  # [*window, out, in]
    dx = _conv(dy, flipped, lhs_dilation, tuple(pads_dx), strides, ones, precision)
    # The weight gradient contracts over the batch: put features first and batch last so
    # that it is again a channels-last convolution ([in, *spatial, batch] * [*out, batch,
    # out] -> [in, *window, out]).
    x_features_first = jnp.moveaxis(x, (0, -1), (-1, 0))
    dy_as_kernel = jnp.moveaxis(dy, 0, -2)
    dw = _conv(
        x_features_first, dy_as_kernel, ones, tuple(pads_dw), lhs_dilation, strides, precision
    )
    return dx, jnp.moveaxis(dw, 0, -2)


canonical_conv.defvjp(_canonical_conv_fwd, _canonical_conv_bwd)


def _explicit_padding(padding, x_shape, w_shape, strides) -> Padding:
    if isinstance(padding, str):
        # As lax.conv_general_dilated resolves a padding name (on the undilated input).
        return tuple(lax.padtype_to_pads(x_shape[1:-1], w_shape[:-2], strides, padding))
    return tuple((int(low), int(high)) for low, high in padding)


def conv_general_dilated(
    lhs: jax.Array,
    rhs: jax.Array,
    window_strides: Sequence[int],
    padding,
    lhs_dilation: Sequence[int] | None = None,
    rhs_dilation: Sequence[int] | None = None,
    dimension_numbers=None,
    feature_group_count: int = 1,
    batch_group_count: int = 1,
    precision=None,
    preferred_element_type=None,
    out_sharding=None,
) -> jax.Array:
    """`lax.conv_general_dilated`, through `canonical_conv` on the CPU backend.

    Same arguments and result as `lax.conv_general_dilated`. The canonical path is taken
    on CPU for channels-last convolutions without kernel dilation, feature or batch
    groups, output sharding or a preferred element type; anything else, and every other
    backend, calls `lax.conv_general_dilated` unchanged.
    """
    num_spatial = lhs.ndim - 2
    ones = (1,) * num_spatial
    lhs_dilation = tuple(lhs_dilation or ones)
    rhs_dilation = tuple(rhs_dilation or ones)
    canonical = (
        jax.default_backend() == "cpu"
        and 1 <= num_spatial <= 3
        and rhs_dilation == ones
        and feature_group_count == 1
        and batch_group_count == 1
        and preferred_element_type is None
        and out_sharding is None
        and lax.conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers)
        == _channels_last(num_spatial)
        and not (isinstance(padding, str) and lhs_dilation != ones)
    )
    if not canonical:
        return lax.conv_general_dilated(
            lhs,
            rhs,
            window_strides,
            padding,
            lhs_dilation=lhs_dilation,
            rhs_dilation=rhs_dilation,
            dimension_numbers=dimension_numbers,
            feature_group_count=feature_group_count,
            batch_group_count=batch_group_count,
            precision=precision,
            preferred_element_type=preferred_element_type,
            out_sharding=out_sharding,
        )
    strides = tuple(int(s) for s in window_strides)
    pads = _explicit_padding(padding, lhs.shape, rhs.shape, strides)
    return canonical_conv(lhs, rhs, strides, pads, lhs_dilation, precision)


def depth_to_space(x: jax.Array, block: int) -> jax.Array:
    """[b, h, w, block * block * c] -> [b, h * block, w * block, c].

    Channel index (i * block + j) * c + k of input pixel (y, x) goes to output pixel
    (y * block + i, x * block + j), channel k.
    """
    b, h, w, channels = x.shape
    c = channels // (block * block)
    x = x.reshape(b, h, w, block, block, c)
    return x.transpose(0, 1, 3, 2, 4, 5).reshape(b, h * block, w * block, c)


def subpixel_taps(kernel_size: int, stride: int = 2) -> tuple[int, np.ndarray]:
    """How a 'SAME' stride-`stride` transposed convolution reads its input, per axis.

    Output position o = stride * m + a (phase a) is a sum over input positions m + d of
    x[m + d] * w[t]. Returns (first offset d0, selection [stride, taps, kernel_size]):
    selection[a, d - d0, t] = 1 when phase a reads x[m + d] with kernel tap t.
    """
    # lax.conv_transpose's 'SAME' padding before the dilated input.
    pad_len = kernel_size + stride - 2
    before = kernel_size - 1 if stride > kernel_size - 1 else int(np.ceil(pad_len / 2))
    # Tap t of phase a reads dilated position stride * m + a + t - before, which holds
    # x[m + d] when it equals stride * (m + d).
    pairs = [
        (a, (a + t - before) // stride, t)
        for a in range(stride)
        for t in range(kernel_size)
        if (a + t - before) % stride == 0
    ]
    first = min(d for _, d, _ in pairs)
    taps = max(d for _, d, _ in pairs) - first + 1
    selection = np.zeros((stride, taps, kernel_size), np.float32)
    for a, d, t in pairs:
        selection[a, d - first, t] = 1.0
    return first, selection


def conv_layer(
    in_features: int, out_features: int, kernel_size: Sequence[int], **kwargs
) -> nnx.Conv:
    """An `nnx.Conv` (same arguments) that convolves with `conv_general_dilated` above."""
    return nnx.Conv(
        in_features, out_features, kernel_size, conv_general_dilated=conv_general_dilated, **kwargs
    )


TRANSPOSED_CONV_METHODS = ("transpose", "subpixel")


class StrideTwoConvTranspose(nnx.Module):
    """A 'SAME' stride-2 transposed convolution: [b, h, w, in] -> [b, 2h, 2w, out].

    Parameters and function are those of `nnx.ConvTranspose(in, out, (k, k), strides=2,
    padding="SAME")` (kernel [k, k, in, out] and bias [out], initialised the same way from
    the same rngs). `method` picks how it is computed: "transpose" (an input-dilated
    convolution, as `lax.conv_transpose`) or "subpixel" (a convolution to 4 * out
    features, then depth-to-space). Both give the same outputs up to float rounding.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        kernel_size: int,
        *,
        method: str = "transpose",
        dtype=None,
        rngs: nnx.Rngs,
    ):
        if method not in TRANSPOSED_CONV_METHODS:
            raise ValueError(
                f"Unknown transposed-convolution method {method!r}; choose one of "
                f"{', '.join(TRANSPOSED_CONV_METHODS)}."
            )
        self.method = method
        self.kernel_size = kernel_size
        self.dtype = dtype
        self.kernel = nnx.Param(
            nnx.initializers.lecun_normal()(
                rngs.params(), (kernel_size, kernel_size, in_features, out_features)
            )
        )
        self.bias = nnx.Param(nnx.initializers.zeros_init()(rngs.params(), (out_features,)))

    def __call__(self, x: jax.Array) -> jax.Array:
        """x: [*batch, h, w, in] -> [*batch, 2h, 2w, out]."""
        kernel, bias = self.kernel[...], self.bias[...]
        if self.dtype is not None:
            x, kernel, bias = (a.astype(self.dtype) for a in (x, kernel, bias))
        batch_shape = x.shape[:-3]
        x = x.reshape((-1, *x.shape[-3:]))
        if self.method == "transpose":
            y = self._dilated(x, kernel)
        else:
            y = self._subpixel(x, kernel)
        return (y + bias).reshape((*batch_shape, *y.shape[1:]))

    def _dilated(self, x: jax.Array, kernel: jax.Array) -> jax.Array:
        k = self.kernel_size
        pad_len = k  # lax.conv_transpose's 'SAME' padding for stride 2: k + 2 - 2 in total
        before = k - 1 if k < 3 else int(np.ceil(pad_len / 2))
        pads = ((before, pad_len - before),) * 2
        return conv_general_dilated(
            x,
            kernel,
            (1, 1),
            pads,
            lhs_dilation=(2, 2),
            dimension_numbers=("NHWC", "HWIO", "NHWC"),
        )

    def _subpixel(self, x: jax.Array, kernel: jax.Array) -> jax.Array:
        first, selection = subpixel_taps(self.kernel_size, 2)
        taps = selection.shape[1]
        selection = jnp.asarray(selection, kernel.dtype)
        # [taps, taps, in, phase_row, phase_col, out]: each output phase's own kernel taps.
        phase_kernels = jnp.einsum("apt,bqu,tuio->pqiabo", selection, selection, kernel)
        in_f, out_f = kernel.shape[2], kernel.shape[3]
        phase_kernels = phase_kernels.reshape(taps, taps, in_f, 4 * out_f)
        pads = ((-first, first + taps - 1),) * 2
        y = conv_general_dilated(
            x, phase_kernels, (1, 1), pads, dimension_numbers=("NHWC", "HWIO", "NHWC")
        )
        return depth_to_space(y, 2)
