"""LPIPS (aelab.objectives.perceptual) and its weights file: the file round-trips, the
distance has the properties of a distance, matches a plain PyTorch re-implementation of
richzhang/PerceptualSimilarity's forward on the same random weights (when torch is
installed), and a bad file raises one clear error.

The weights are random, in the published layout with every width divided by 16 (the
published VGG16 file is 59 MB and cannot be fetched here); each test writes its own.
"""

import importlib.util
import os
import pathlib
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from aelab.objectives import lpips_weights
from aelab.objectives.lpips_weights import (
    LpipsWeightsError,
    load_lpips_weights,
    random_lpips_weights,
    save_lpips_weights,
)
from aelab.objectives.perceptual import LPIPS, load_lpips, vgg16_features
from tests.weights_suffixes import WEIGHTS_SUFFIXES

DIVISOR = 16
REPO = pathlib.Path(__file__).resolve().parents[2]
HAS_TORCH = importlib.util.find_spec("torch") is not None


@pytest.fixture(scope="module")
def vgg_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("lpips") / "lpips_vgg16_small.npz"
    save_lpips_weights(path, random_lpips_weights("vgg16", DIVISOR, seed=0))
    return path


@pytest.fixture(scope="module")
def lpips(vgg_file):
    return load_lpips(vgg_file)


def _images(seed, shape=(3, 28, 28, 1)):
    return jnp.asarray(np.random.default_rng(seed).uniform(0, 1, shape), jnp.float32)


@pytest.mark.parametrize("suffix", WEIGHTS_SUFFIXES)
def test_weights_file_round_trips(tmp_path, suffix):
    params = random_lpips_weights("vgg16", DIVISOR, seed=1)
    path = tmp_path / f"weights{suffix}"
    save_lpips_weights(path, params)
    network, loaded = load_lpips_weights(path)
    assert network == "vgg16"
    assert loaded.keys() == params.keys()
    for key in params:
        np.testing.assert_array_equal(loaded[key], params[key])


def test_lpips_of_an_image_and_itself_is_zero(lpips):
    x = _images(0)
    np.testing.assert_allclose(lpips(x, x), 0.0, atol=1e-7)


def test_lpips_is_symmetric_and_positive_for_different_images(lpips):
    x, y = _images(0), _images(1)
    d_xy, d_yx = np.asarray(lpips(x, y)), np.asarray(lpips(y, x))
    assert d_xy.shape == (3,)
    np.testing.assert_allclose(d_xy, d_yx, rtol=1e-5)
    assert np.all(d_xy > 1e-3)


def test_grayscale_images_are_compared_as_repeated_rgb(lpips):
    x, y = _images(0), _images(1)
    rgb = lpips(jnp.repeat(x, 3, -1), jnp.repeat(y, 3, -1))
    np.testing.assert_allclose(lpips(x, y), rgb, rtol=1e-5)


def test_a_28x28_image_reaches_relu5_3_at_one_position(lpips):
    shapes = [f.shape for f in vgg16_features(jnp.zeros((1, 28, 28, 3)), lpips.params)]
    assert [s[1:3] for s in shapes] == [(28, 28), (14, 14), (7, 7), (3, 3), (1, 1)]
    assert [s[-1] for s in shapes] == [c // DIVISOR for c in (64, 128, 256, 512, 512)]


def test_images_too_small_for_the_deepest_layer_raise(lpips):
    with pytest.raises(ValueError, match="at least 16x16"):
        lpips(jnp.zeros((1, 12, 12, 1)), jnp.zeros((1, 12, 12, 1)))


def test_alexnet_weights_give_a_distance_on_large_enough_images(tmp_path):
    path = tmp_path / "alex.npz"
    save_lpips_weights(path, random_lpips_weights("alexnet", DIVISOR, seed=2))
    lpips = load_lpips(path)
    assert lpips.network == "alexnet"
    x, y = _images(0, (2, 32, 32, 3)), _images(1, (2, 32, 32, 3))
    assert np.all(np.asarray(lpips(x, y)) > 0)
    with pytest.raises(ValueError, match="at least 31x31"):
        lpips(x[:, :28, :28], y[:, :28, :28])


def test_a_missing_file_names_the_path_and_the_conversion_command(tmp_path):
    path = tmp_path / "nowhere.safetensors"
    with pytest.raises(LpipsWeightsError) as error:
        load_lpips(path)
    message = str(error.value)
    assert str(path) in message and "no such file" in message
    assert lpips_weights.CONVERT_COMMAND in message and "docs/perceptual.md" in message


def test_a_file_missing_a_key_names_the_key(tmp_path):
    params = random_lpips_weights("vgg16", DIVISOR)
    del params["lin3.weight"]
    path = tmp_path / "partial.npz"
    save_lpips_weights(path, params)
    with pytest.raises(LpipsWeightsError, match=r"missing key 'lin3.weight'.*convert_lpips"):
        load_lpips(path)


def test_a_file_with_a_wrong_shape_names_the_key_and_both_shapes(tmp_path):
    params = random_lpips_weights("vgg16", DIVISOR)
    params["conv3_2.kernel"] = params["conv3_2.kernel"][..., :3]
    path = tmp_path / "mismatched.npz"
    save_lpips_weights(path, params)
    with pytest.raises(LpipsWeightsError, match=r"'conv3_2.kernel' has shape \(3, 3, 16, 3\)"):
        load_lpips(path)


def test_a_corrupt_or_foreign_file_raises_the_same_error(tmp_path):
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"not a zip file")
    with pytest.raises(LpipsWeightsError, match="cannot be read"):
        load_lpips(corrupt)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, weight=np.zeros(3))
    with pytest.raises(LpipsWeightsError, match=r"missing key 'conv1_1\.kernel'"):
        load_lpips(foreign)
    wrong_suffix = tmp_path / "weights.pth"
    wrong_suffix.write_bytes(b"")
    with pytest.raises(LpipsWeightsError, match=r"neither a \.safetensors nor a \.npz"):
        load_lpips(wrong_suffix)


@pytest.mark.slow  # the backward pass of VGG16 run eagerly (~10 s)
def test_gradients_flow_to_the_images_only(lpips):
    """The objectives differentiate LPIPS with respect to the reconstruction; the
    weights are constants."""
    x, y = _images(0), _images(1)
    grad = jax.grad(lambda a: lpips(a, y).sum())(x)
    assert grad.shape == x.shape and float(jnp.abs(grad).sum()) > 0
    assert all(isinstance(v, np.ndarray) for v in lpips.params.values())


# A plain PyTorch LPIPS (the forward of lpips.LPIPS(net="vgg", version="0.1") with
# normalize=True, written out), run on the same weights.
def _torch_lpips(params, x, y):
    import torch
    import torch.nn.functional as F

    def tensor(a):
        return torch.from_numpy(np.array(a, np.float32))

    shift = torch.tensor([-0.030, -0.088, -0.188])[None, :, None, None]
    scale = torch.tensor([0.458, 0.448, 0.450])[None, :, None, None]

    def features(images):  # images: NCHW in [0, 1]
        h = ((2 * images - 1) - shift) / scale
        out = []
        for stage, convs in enumerate(((1, 2), (1, 2), (1, 2, 3), (1, 2, 3), (1, 2, 3)), 1):
            if stage > 1:
                h = F.max_pool2d(h, 2, 2)
            for k in convs:
                name = f"conv{stage}_{k}"
                kernel = tensor(params[f"{name}.kernel"]).permute(3, 2, 0, 1)  # OIHW
                h = F.relu(F.conv2d(h, kernel, tensor(params[f"{name}.bias"]), padding=1))
            out.append(h)
        return out

    def normalize(f):
        return f / (torch.sqrt(torch.sum(f**2, dim=1, keepdim=True)) + 1e-10)

    x, y = tensor(x).permute(0, 3, 1, 2), tensor(y).permute(0, 3, 1, 2)
    if x.shape[1] == 1:
        x, y = x.repeat(1, 3, 1, 1), y.repeat(1, 3, 1, 1)
    total = 0
    for layer, (fx, fy) in enumerate(zip(features(x), features(y), strict=True)):
        lin = tensor(params[f"lin{layer}.weight"]).reshape(1, -1, 1, 1)
        diff = (normalize(fx) - normalize(fy)) ** 2
        total = total + F.conv2d(diff, lin).mean(dim=(2, 3), keepdim=True)
    return total.reshape(-1).numpy()


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
@pytest.mark.parametrize("shape", [(3, 28, 28, 1), (2, 32, 32, 3)])
def test_matches_a_pytorch_reimplementation_on_the_same_weights(lpips, shape):
    x, y = _images(3, shape), _images(4, shape)
    expected = _torch_lpips(lpips.params, np.asarray(x), np.asarray(y))
    np.testing.assert_allclose(np.asarray(lpips(x, y)), expected, rtol=2e-4, atol=1e-6)


@pytest.mark.slow  # a subprocess importing torch and aelab (~6 s)
@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
def test_the_conversion_script_reads_torchvision_and_lpips_files(tmp_path):
    """Fake .pth files in torchvision's and LPIPS's key layouts -> the converter ->
    the same distance as the layout's weights written directly."""
    import torch

    params = random_lpips_weights("vgg16", DIVISOR, seed=5)
    names = [name for name, *_ in lpips_weights.VGG16_CONVS]
    indices = (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)
    backbone = {"classifier.0.weight": torch.zeros(2, 2)}
    for name, index in zip(names, indices, strict=True):
        backbone[f"features.{index}.weight"] = torch.from_numpy(
            params[f"{name}.kernel"].transpose(3, 2, 0, 1).copy()
        )
        backbone[f"features.{index}.bias"] = torch.from_numpy(params[f"{name}.bias"])
    lin = {
        f"lin{layer}.model.1.weight": torch.from_numpy(
            params[f"lin{layer}.weight"].reshape(1, -1, 1, 1).copy()
        )
        for layer in range(5)
    }
    torch.save(backbone, tmp_path / "vgg16-397923af.pth")
    torch.save(lin, tmp_path / "vgg.pth")
    output = tmp_path / "lpips_vgg16.npz"
    subprocess.run(
        [
            sys.executable,
            str(REPO / "tools" / "convert_lpips_weights.py"),
            "--network=vgg16",
            f"--backbone={tmp_path / 'vgg16-397923af.pth'}",
            f"--lin={tmp_path / 'vgg.pth'}",
            f"--output={output}",
        ],
        check=True,
        capture_output=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    network, converted = load_lpips_weights(output)
    assert network == "vgg16"
    for key, value in params.items():
        np.testing.assert_array_equal(converted[key], value)
    x, y = _images(6), _images(7)
    np.testing.assert_allclose(
        LPIPS("vgg16", converted)(x, y), LPIPS("vgg16", params)(x, y), rtol=1e-6
    )
