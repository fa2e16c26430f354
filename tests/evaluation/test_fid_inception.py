"""The FID Inception (aelab.evaluation.fid_inception) and its weights file: the layout
is pytorch-fid's network, the file round-trips, a bad file raises one clear line, the
converter reads a pytorch-fid state dict, and the features match a plain PyTorch
re-implementation of pytorch-fid's forward on the same random weights (when torch is
installed).

The weights are random, in the published layout with every width divided by 16 (the
published file cannot be fetched here, and nothing downloads); each test writes its
own. The slow tier repeats the parity and the conversion at full width.
"""

import os
import pathlib
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from aelab.evaluation import inception_weights
from aelab.evaluation.fid_inception import (
    FIDInception,
    avg_pool_3x3_without_padding,
    load_fid_inception,
    max_pool_3x3_same,
    pool3_features,
    preprocess,
)
from aelab.evaluation.inception_weights import (
    BASIC_CONVS,
    CONVS_BY_NAME,
    MIXED_BLOCKS,
    InceptionWeightsError,
    expected_shapes,
    load_inception_weights,
    random_inception_weights,
    save_inception_weights,
)
from tests.weights_suffixes import WEIGHTS_SUFFIXES

DIVISOR = 16
BATCH = 4  # one batch shape for every test: the network compiles once per process
REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))
import convert_inception_weights  # noqa: E402


@pytest.fixture(scope="module")
def small_params():
    return random_inception_weights(DIVISOR, seed=0)


@pytest.fixture(scope="module")
def small_file(tmp_path_factory, small_params):
    path = tmp_path_factory.mktemp("inception") / "fid_inception_small.npz"
    save_inception_weights(path, small_params)
    return path


def _images(seed, shape=(BATCH, 28, 28, 1)):
    return np.random.default_rng(seed).uniform(0, 1, shape).astype(np.float32)


# ------------------------------------------------------------------ the layout


def test_the_layout_is_pytorch_fids_inception():
    shapes = expected_shapes()
    assert len(BASIC_CONVS) == 94 and len(shapes) == 94 * 5
    assert shapes["Conv2d_1a_3x3.conv.kernel"] == (3, 3, 3, 32)
    assert shapes["Mixed_6b.branch7x7_2.conv.kernel"] == (1, 7, 128, 128)
    assert shapes["Mixed_7c.branch3x3dbl_1.conv.kernel"] == (1, 1, 2048, 448)
    # Keras' InceptionV3 (the same graph; its BatchNorm has no gamma) counts 23,851,784
    # parameters, 34,432 of them BatchNorm statistics: the kernels, 3 x 17,216 BatchNorm
    # arrays and its 1000-way classifier (2,049,000).
    kernels = sum(np.prod(s) for k, s in shapes.items() if k.endswith(".kernel"))
    channels = sum(s[0] for k, s in shapes.items() if k.endswith(".bn.running_var"))
    assert channels == 34_432 // 2
    assert kernels + 3 * channels + 2_049_000 == 23_851_784


def test_every_block_reads_the_channels_the_previous_one_writes():
    """Each Mixed block's 1x1 convolutions read the concatenated output of the one
    before (pytorch-fid's widths 256, 288, 288, 768, ..., 1280, 2048)."""
    params = jax.eval_shape(lambda: {k: jnp.zeros(s) for k, s in expected_shapes().items()})
    out = jax.eval_shape(pool3_features, params, jax.ShapeDtypeStruct((2, 28, 28, 1), "float32"))
    assert out.shape == (2, 2048)
    for (block, _, convs), previous_out in zip(
        MIXED_BLOCKS, (192, 256, 288, 288, 768, 768, 768, 768, 768, 1280, 2048), strict=True
    ):
        assert convs[0].in_channels == previous_out, block


@pytest.mark.parametrize("suffix", WEIGHTS_SUFFIXES)
def test_weights_file_round_trips(tmp_path, small_params, suffix):
    path = tmp_path / f"weights{suffix}"
    save_inception_weights(path, small_params)
    loaded = load_inception_weights(path)
    assert list(loaded) == list(expected_shapes(DIVISOR))
    for key, value in small_params.items():
        np.testing.assert_array_equal(loaded[key], value)


# ------------------------------------------------------------------ bad files


def _error_of(path) -> str:
    with pytest.raises(InceptionWeightsError) as error:
        load_fid_inception(path)
    message = str(error.value)
    assert "\n" not in message and str(path) in message
    assert inception_weights.CONVERT_COMMAND in message and "docs/fid.md" in message
    return message


def test_a_missing_file_names_the_path_and_the_conversion_command(tmp_path):
    assert "no such file" in _error_of(tmp_path / "nowhere.safetensors")


def test_a_file_missing_a_key_names_the_key(tmp_path, small_params):
    params = dict(small_params)
    del params["Mixed_6c.branch7x7dbl_4.bn.running_var"]
    save_inception_weights(tmp_path / "partial.npz", params)
    message = _error_of(tmp_path / "partial.npz")
    assert "missing key 'Mixed_6c.branch7x7dbl_4.bn.running_var'" in message


def test_a_file_with_a_wrong_shape_names_the_key_and_both_shapes(tmp_path, small_params):
    params = dict(small_params)
    params["Mixed_5b.branch5x5_2.conv.kernel"] = params["Mixed_5b.branch5x5_2.conv.kernel"][:3, :3]
    save_inception_weights(tmp_path / "mismatched.npz", params)
    message = _error_of(tmp_path / "mismatched.npz")
    assert (
        "key 'Mixed_5b.branch5x5_2.conv.kernel' has shape (3, 3, 3, 4), the layout (5, 5, 3, 4)"
        in (message)
    )


def test_a_first_kernel_of_no_known_width_is_refused(tmp_path, small_params):
    params = dict(small_params)
    params["Conv2d_1a_3x3.conv.kernel"] = np.zeros((3, 3, 3, 5), np.float32)
    save_inception_weights(tmp_path / "width.npz", params)
    assert "'Conv2d_1a_3x3.conv.kernel' has shape (3, 3, 3, 5)" in _error_of(tmp_path / "width.npz")


def test_unexpected_keys_and_non_finite_values_are_refused(tmp_path, small_params):
    save_inception_weights(tmp_path / "extra.npz", {**small_params, "fc.weight": np.zeros(3)})
    assert "unexpected key 'fc.weight'" in _error_of(tmp_path / "extra.npz")
    params = dict(small_params)
    params["Mixed_7a.branch3x3_2.bn.weight"] = np.full_like(
        params["Mixed_7a.branch3x3_2.bn.weight"], np.nan
    )
    save_inception_weights(tmp_path / "nan.npz", params)
    assert "'Mixed_7a.branch3x3_2.bn.weight' holds non-finite values" in _error_of(
        tmp_path / "nan.npz"
    )


def test_a_corrupt_or_foreign_file_raises_the_same_error(tmp_path):
    (tmp_path / "corrupt.npz").write_bytes(b"not a zip file")
    assert "cannot be read" in _error_of(tmp_path / "corrupt.npz")
    np.savez(tmp_path / "foreign.npz", weight=np.zeros(3))
    assert "missing key 'Conv2d_1a_3x3.conv.kernel'" in _error_of(tmp_path / "foreign.npz")
    (tmp_path / "weights.pth").write_bytes(b"")
    assert "neither a .safetensors nor a .npz" in _error_of(tmp_path / "weights.pth")


# ------------------------------------------------------------------ the conversion


def _pytorch_fid_state_dict(params) -> dict[str, np.ndarray]:
    """A state dict with pytorch-fid's keys and shapes (Inception3(num_classes=1008,
    aux_logits=False)) holding `params`."""
    state = {}
    for conv in BASIC_CONVS:
        state[f"{conv.name}.conv.weight"] = params[f"{conv.name}.conv.kernel"].transpose(3, 2, 0, 1)
        for key in inception_weights.BN_KEYS:
            state[f"{conv.name}.bn.{key}"] = params[f"{conv.name}.bn.{key}"]
        state[f"{conv.name}.bn.num_batches_tracked"] = np.array(0, np.int64)
    width = params["Mixed_7c.branch_pool.conv.kernel"].shape[-1] * 2048 // 192
    state["fc.weight"] = np.zeros((1008, width), np.float32)
    state["fc.bias"] = np.zeros(1008, np.float32)
    return state


def test_the_converter_transposes_kernels_and_copies_batch_norm_unchanged(small_params):
    converted = convert_inception_weights.convert(_pytorch_fid_state_dict(small_params))
    assert converted.keys() == small_params.keys()
    for key, value in small_params.items():
        np.testing.assert_array_equal(converted[key], value)


def test_the_converter_refuses_torchvisions_inception_and_unknown_keys(small_params):
    state = _pytorch_fid_state_dict(small_params)
    torchvision_like = {**state, "fc.weight": np.zeros((1000, 128), np.float32)}
    with pytest.raises(convert_inception_weights.ConversionError, match="torchvision's ImageNet"):
        convert_inception_weights.convert(torchvision_like)
    with pytest.raises(convert_inception_weights.ConversionError, match="unknown key 'extra'"):
        convert_inception_weights.convert({**state, "extra": np.zeros(1)})
    del state["Mixed_5d.branch_pool.bn.bias"]
    with pytest.raises(convert_inception_weights.ConversionError, match="missing key"):
        convert_inception_weights.convert(state)


def _convert_with_the_script(tmp_path, params, output):
    """torch.save(a pytorch-fid state dict of `params`) -> the script -> `output`."""
    torch = pytest.importorskip("torch")
    pth = tmp_path / inception_weights.PUBLISHED_FILE
    state = {
        k: torch.from_numpy(np.ascontiguousarray(v))
        for k, v in _pytorch_fid_state_dict(params).items()
    }
    torch.save(state, pth)
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "tools" / "convert_inception_weights.py"),
            f"--input={pth}",
            f"--output={output}",
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    return result.stdout


@pytest.mark.slow  # a subprocess importing torch and aelab (~13 s)
def test_the_conversion_script_round_trips_a_pytorch_fid_state_dict(tmp_path, small_params):
    output = tmp_path / "fid_inception.safetensors"
    stdout = _convert_with_the_script(tmp_path, small_params, output)
    assert "94 BasicConv2d layers, 470 arrays" in stdout
    assert "left out: fc.weight, fc.bias, 94 BatchNorm num_batches_tracked counters" in stdout
    assert "does not start with 6726825d" in stdout  # not the published file
    converted = load_inception_weights(output)
    for key, value in small_params.items():
        np.testing.assert_array_equal(converted[key], value)


# ------------------------------------------------------------------ the network


# A plain PyTorch FID Inception: pytorch-fid's InceptionV3([3]) forward (fid_inception_v3
# with FIDInceptionA/C/E_1/E_2, torchvision's InceptionB/D), written out with
# torch.nn.functional on the same weights.
def _torch_pool3_features(params, images):
    import torch
    import torch.nn.functional as F

    def tensor(a):
        return torch.from_numpy(np.array(a, np.float32))

    def conv(x, name):
        spec = CONVS_BY_NAME[name]
        kernel = tensor(params[f"{name}.conv.kernel"]).permute(3, 2, 0, 1)  # OIHW
        x = F.conv2d(x, kernel, stride=spec.stride, padding=spec.padding)
        bn = [tensor(params[f"{name}.bn.{k}"]) for k in ("running_mean", "running_var")]
        weight, bias = tensor(params[f"{name}.bn.weight"]), tensor(params[f"{name}.bn.bias"])
        return F.relu(F.batch_norm(x, *bn, weight, bias, training=False, eps=0.001))

    def chain(x, block, *names):
        for name in names:
            x = conv(x, f"{block}.{name}")
        return x

    def avg_pool(x):  # pytorch-fid's patch: TensorFlow's average pool
        return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)

    def inception_a(x, b):
        return torch.cat(
            [
                chain(x, b, "branch1x1"),
                chain(x, b, "branch5x5_1", "branch5x5_2"),
                chain(x, b, "branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"),
                chain(avg_pool(x), b, "branch_pool"),
            ],
            1,
        )

    def inception_b(x, b):
        return torch.cat(
            [
                chain(x, b, "branch3x3"),
                chain(x, b, "branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"),
                F.max_pool2d(x, kernel_size=3, stride=2),
            ],
            1,
        )

    def inception_c(x, b):
        return torch.cat(
            [
                chain(x, b, "branch1x1"),
                chain(x, b, *(f"branch7x7_{k}" for k in (1, 2, 3))),
                chain(x, b, *(f"branch7x7dbl_{k}" for k in (1, 2, 3, 4, 5))),
                chain(avg_pool(x), b, "branch_pool"),
            ],
            1,
        )

    def inception_d(x, b):
        return torch.cat(
            [
                chain(x, b, "branch3x3_1", "branch3x3_2"),
                chain(x, b, *(f"branch7x7x3_{k}" for k in (1, 2, 3, 4))),
                F.max_pool2d(x, kernel_size=3, stride=2),
            ],
            1,
        )

    def inception_e(x, b, last):
        branch3x3 = chain(x, b, "branch3x3_1")
        branch3x3dbl = chain(x, b, "branch3x3dbl_1", "branch3x3dbl_2")
        # pytorch-fid's FIDInceptionE_2 max-pools; FIDInceptionE_1 averages without padding.
        pool = F.max_pool2d(x, kernel_size=3, stride=1, padding=1) if last else avg_pool(x)
        return torch.cat(
            [
                chain(x, b, "branch1x1"),
                chain(branch3x3, b, "branch3x3_2a"),
                chain(branch3x3, b, "branch3x3_2b"),
                chain(branch3x3dbl, b, "branch3x3dbl_3a"),
                chain(branch3x3dbl, b, "branch3x3dbl_3b"),
                chain(pool, b, "branch_pool"),
            ],
            1,
        )

    blocks = {
        "a": inception_a,
        "b": inception_b,
        "c": inception_c,
        "d": inception_d,
        "e_1": lambda x, b: inception_e(x, b, last=False),
        "e_2": lambda x, b: inception_e(x, b, last=True),
    }
    with torch.no_grad():
        x = tensor(images).permute(0, 3, 1, 2)
        if x.shape[1] == 1:
            x = x.repeat(1, 3, 1, 1)
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        x = 2 * x - 1
        for name in ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3"):
            x = conv(x, name)
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        x = conv(conv(x, "Conv2d_3b_1x1"), "Conv2d_4a_3x3")
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        for block, kind, _ in MIXED_BLOCKS:
            x = blocks[kind](x, block)
        return F.adaptive_avg_pool2d(x, (1, 1)).flatten(1).numpy()


def _relative_error(got, expected) -> float:
    return float(np.abs(got - expected).max() / np.abs(expected).max())


@pytest.mark.parametrize("side", [28, 320])  # up and down to 299
def test_the_resize_is_pytorchs_bilinear_without_corner_alignment(side):
    torch = pytest.importorskip("torch")
    images = _images(1, (2, side, side, 3))
    expected = torch.nn.functional.interpolate(
        torch.from_numpy(images).permute(0, 3, 1, 2),
        size=(299, 299),
        mode="bilinear",
        align_corners=False,
    )
    got = np.asarray(preprocess(jnp.asarray(images)))
    np.testing.assert_allclose(got, 2 * expected.permute(0, 2, 3, 1).numpy() - 1, atol=2e-6)


def test_the_pools_are_tensorflows_average_and_a_padded_max():
    torch = pytest.importorskip("torch")
    x = _images(2, (2, 9, 7, 5))
    nchw = torch.from_numpy(x).permute(0, 3, 1, 2)
    avg = torch.nn.functional.avg_pool2d(nchw, 3, stride=1, padding=1, count_include_pad=False)
    top = torch.nn.functional.max_pool2d(nchw, 3, stride=1, padding=1)
    for ours, theirs in ((avg_pool_3x3_without_padding, avg), (max_pool_3x3_same, top)):
        np.testing.assert_allclose(
            np.asarray(ours(jnp.asarray(x))), theirs.permute(0, 2, 3, 1).numpy(), rtol=1e-6
        )
    # A corner's window holds 4 of its 9 positions inside the image: their plain mean.
    np.testing.assert_allclose(
        np.asarray(avg_pool_3x3_without_padding(jnp.asarray(x)))[:, 0, 0],
        x[:, :2, :2].mean(axis=(1, 2)),
        rtol=1e-6,
    )


@pytest.mark.parametrize("shape", [(BATCH, 28, 28, 1), (BATCH - 1, 32, 32, 3)])
def test_features_match_a_pytorch_reimplementation_on_the_same_weights(small_file, shape):
    pytest.importorskip("torch")
    inception = load_fid_inception(small_file, batch_size=BATCH)
    images = _images(3, shape)
    got = inception.features(images)
    expected = _torch_pool3_features(inception.params, images)
    assert got.shape == (shape[0], 2048 // DIVISOR) == expected.shape
    assert _relative_error(got, expected) < 1e-4
    assert np.std(got, axis=0).mean() > 1e-3  # the images give different features


def test_grey_images_have_the_features_of_their_rgb_repetition(small_params):
    inception = FIDInception(small_params, batch_size=BATCH)
    grey = _images(4)
    np.testing.assert_allclose(
        inception.features(grey), inception.features(np.repeat(grey, 3, -1)), rtol=1e-5, atol=1e-6
    )
    assert inception.feature_dim == 128


def test_features_do_not_depend_on_the_batch_they_are_computed_in(small_params):
    images = _images(5, (BATCH + 2, 28, 28, 1))
    batched = FIDInception(small_params, batch_size=BATCH).features(images)
    alone = np.concatenate(
        [FIDInception(small_params, batch_size=BATCH).features(images[i : i + 1]) for i in (0, 5)]
    )
    np.testing.assert_allclose(batched[[0, 5]], alone, rtol=1e-5, atol=1e-6)


@pytest.mark.slow  # the full-width network, a ~95 MB .pth through the converter (~30 s)
def test_full_width_conversion_and_features_match_pytorch(tmp_path):
    params = random_inception_weights(1, seed=7)
    output = tmp_path / "fid_inception.npz"
    _convert_with_the_script(tmp_path, params, output)
    inception = load_fid_inception(output, batch_size=2)
    images = _images(8, (2, 28, 28, 1))
    got = inception.features(images)
    assert got.shape == (2, 2048)
    assert _relative_error(got, _torch_pool3_features(params, images)) < 1e-4
