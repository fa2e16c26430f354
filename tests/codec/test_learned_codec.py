"""A learned codec's files: decoded images equal the model's quantized reconstruction
bit for bit, the size is the rate, and every bad file gets one clear error."""

import ml_collections
import numpy as np
import pytest
from flax import nnx

from aelab.codec import CodecFileError, LearnedCodec
from aelab.codec.bitstream import FORMAT_VERSION, MAGIC
from aelab.models import build_model
from aelab.training.state import split_model

SHAPE = (12, 12, 1)


def _codec(tmp_path, name="factorized_prior", transform="dense", seed=0):
    config = ml_collections.ConfigDict(
        {
            "name": name,
            "latent_dim": 6,
            "transform": transform,
            "channels": (16,),
            "hyper_channels": 4,
        }
    )
    model = build_model(config, SHAPE, rngs=nnx.Rngs(seed))
    graphdef, params, state = split_model(model)
    return LearnedCodec(
        graphdef, params, state, SHAPE, str(tmp_path / f"{name}_{transform}_{seed}.npz")
    )


def _images(n=9):
    rng = np.random.default_rng(1)
    smooth = np.cumsum(np.cumsum(rng.random((n, *SHAPE)), axis=1), axis=2)
    return np.round(255 * smooth / smooth.max(axis=(1, 2, 3), keepdims=True)).astype(np.uint8)


@pytest.mark.parametrize(
    "name,transform",
    [
        ("factorized_prior", "dense"),
        ("scale_hyperprior", "dense"),
        # The conv pairings each compile a conv model (10-15 s): slow tier.
        pytest.param("factorized_prior", "conv", marks=pytest.mark.slow),
        pytest.param("scale_hyperprior", "conv", marks=pytest.mark.slow),
    ],
)
def test_decompress_gives_the_quantized_reconstruction_bit_for_bit(tmp_path, name, transform):
    codec = _codec(tmp_path, name, transform)
    images = _images()
    data = codec.compress(images)
    decoded = codec.decompress(data)
    assert decoded.dtype == np.uint8 and decoded.shape == images.shape
    assert np.array_equal(decoded, codec.reconstruct(images))
    assert codec.compress(images) == data  # deterministic
    one = codec.decompress(codec.compress(images[3:4]))
    assert np.array_equal(one, decoded[3:4])
    # The tables were stored once and are read back: a second codec makes the same files.
    again = _codec(tmp_path, name, transform)
    assert again.compress(images) == data and again.model_id == codec.model_id


def test_the_images_of_a_file_share_one_header_and_one_stream(tmp_path):
    codec = _codec(tmp_path)
    images = _images(40)
    one_file = codec.compress(images)
    each = codec.compress_each(images)
    assert each[5] == codec.compress(images[5:6])
    # magic 4, version 1, model id 8, count / height / width / channels 1 each, CRC 4,
    # and a stream of whole 32-bit words.
    assert all((len(one) - 21) % 4 == 0 for one in each) and (len(one_file) - 21) % 4 == 0
    # Sharing saves every file's header and its coder's flush.
    assert len(one_file) <= sum(len(one) for one in each) - 39 * 21
    assert np.array_equal(codec.decompress(each[5]), codec.decompress(one_file)[5:6])


def _expect(codec, data, message):
    with pytest.raises(CodecFileError, match=message):
        codec.decompress(data, name="x.aelc")


def test_bad_files_get_one_clear_error(tmp_path):
    codec = _codec(tmp_path)
    data = codec.compress(_images())
    _expect(codec, b"PNG" + data[3:], r"x.aelc is not an aelab compressed file")
    _expect(codec, data[:-7], r"truncated or corrupted")
    _expect(codec, data[:10], r"truncated")
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x10
    _expect(codec, bytes(flipped), r"truncated or corrupted")
    newer = bytearray(data)
    newer[len(MAGIC)] = FORMAT_VERSION + 1
    _expect(
        codec, bytes(newer), rf"format version {FORMAT_VERSION + 1}, newer than .* update aelab"
    )
    other = _codec(tmp_path, seed=1)
    _expect(other, data, r"compressed by another model .* --workdir")
    with pytest.raises(ValueError, match=r"codes images of shape \(12, 12, 1\)"):
        codec.compress(np.zeros((2, 8, 8, 1), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        codec.compress(np.zeros((2, *SHAPE), np.float32))


def test_tables_of_other_weights_are_refused(tmp_path):
    _codec(tmp_path, seed=0)
    (tmp_path / "factorized_prior_dense_0.npz").rename(tmp_path / "factorized_prior_dense_1.npz")
    with pytest.raises(CodecFileError, match="made for other weights"):
        _codec(tmp_path, seed=1)
