"""A trained compressive model as a codec: images -> bytes -> images.

Compression: y = g_a(x) (x = image / 255), rounded and clipped into the coder tables'
range, range coded (one stream for the images of a file) with the factorized density's
tables (factorized prior),
or after the side information z_hat, whose scales sigma = h_s(z_hat) pick each latent's
Gaussian table (scale hyperprior). Decompression parses the symbols and runs the
synthesis transform: the decoded image is exactly `reconstruct(images)`, the model's
quantized reconstruction (rounded to 8 bits), and the file size is the rate.

Determinism: the tables are integers computed once per checkpoint and stored next to it
(`load_codec_tables`), so the factorized prior's bitstream parses the same on any
machine. The hyperprior's decoder also needs each latent's scale index, computed from
z_hat by the h_s network: the same on one platform, but XLA on another device may round
a scale across a table boundary, so move hyperprior files between machines of the same
kind only (Ballé et al., 2019, "Integer networks", remove this limit).
"""

from __future__ import annotations

import hashlib
import os

import jax
import jax.numpy as jnp
import numpy as np

from aelab.codec import range_coding
from aelab.codec.bitstream import CodecFileError, CompressedFile, read_file, write_file
from aelab.codec.image_files import to_uint8
from aelab.codec.tables import SymbolTables, factorized_tables, gaussian_tables, scale_table
from aelab.core.contract import require_compression_model
from aelab.models.learned_codecs import SCALE_MIN
from aelab.training.state import merge_model

_BATCH = 250  # images per jitted call (a fixed shape: the last chunk is padded)


def _parameter_digest(params, model_state) -> bytes:
    h = hashlib.sha256()
    for leaf in jax.tree.leaves((params, model_state)):
        array = np.asarray(leaf)
        h.update(str(array.dtype).encode() + str(array.shape).encode())
        h.update(np.ascontiguousarray(array).tobytes())
    return h.digest()


def load_codec_tables(path: str, model, parameter_digest: bytes) -> dict[str, np.ndarray]:
    """The coder tables of `model` stored at `path` (an .npz), computed and written there
    first if the file does not exist.

    Raises:
      CodecFileError: the stored tables belong to other weights.
    """
    if os.path.exists(path):
        with np.load(path) as stored:
            arrays = dict(stored)
        if bytes(arrays["parameter_digest"]) != parameter_digest:
            raise CodecFileError(
                f"The coder tables {path} were made for other weights than this checkpoint's; "
                "delete the file to recompute them."
            )
        return arrays
    density_channels = _density_channels(model)

    def logits_cdf(values):
        return np.asarray(jax.jit(model.density_logits_cdf)(jnp.asarray(values, jnp.float32)))

    arrays = factorized_tables(logits_cdf, density_channels).as_arrays("density")
    if model.num_hyper_stages:
        scales = scale_table(SCALE_MIN)
        arrays.update(gaussian_tables(scales).as_arrays("gaussian"))
        arrays["gaussian_scales"] = scales
    arrays["parameter_digest"] = np.frombuffer(parameter_digest, np.uint8)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    temporary = f"{path}.tmp-{os.getpid()}.npz"
    np.savez(temporary, **arrays)
    os.replace(temporary, path)  # whole or absent: a killed run leaves no half file
    return arrays


def _density_channels(model) -> int:
    if model.num_hyper_stages:
        return model.density.channels
    return model.latent_shape[-1]


class LearnedCodec:
    """Compress / decompress with a trained compressive model.

    Args:
      graphdef, params, model_state: the trained model (a `CompressionModel`).
      image_shape: (height, width, channels) of the images it codes.
      tables_path: where the coder tables of these weights are (or are written).
    """

    def __init__(self, graphdef, params, model_state, image_shape, tables_path: str):
        model = merge_model(graphdef, params, model_state)
        require_compression_model(model, "A learned codec")
        self.image_shape = tuple(int(s) for s in image_shape)
        self.latent_shape = tuple(model.latent_shape)
        self.hyper = bool(model.num_hyper_stages)
        digest = _parameter_digest(params, model_state)
        arrays = load_codec_tables(tables_path, model, digest)
        self.density = SymbolTables.from_arrays(arrays, "density")
        self.density_models = range_coding.TableModels(self.density)
        identity = hashlib.sha256(digest + self.density.digest())
        if self.hyper:
            self.gaussian = SymbolTables.from_arrays(arrays, "gaussian")
            self.gaussian_models = range_coding.TableModels(self.gaussian)
            self.scales = np.asarray(arrays["gaussian_scales"], np.float64)
            identity.update(self.gaussian.digest())
        self.model_id = identity.digest()[:8]

        def bound(method):
            def call(params, model_state, x):
                return getattr(merge_model(graphdef, params, model_state), method)(x)

            return jax.jit(call)

        self._params, self._state = params, model_state
        self._side_shape_cache: tuple[int, ...] | None = None
        self._analysis = jax.jit(
            lambda p, s, x: merge_model(graphdef, p, s).encode(x, train=False, rngs=None).mean
        )
        self._synthesis = jax.jit(
            lambda p, s, y: merge_model(graphdef, p, s).decode(y, train=False, rngs=None)
        )
        if self.hyper:
            self._side = bound("side_information")
            self._conditional_scales = bound("conditional_scales")

    # -- batched network calls ------------------------------------------------------

    def _map(self, fn, values: np.ndarray) -> np.ndarray:
        outputs = []
        for start in range(0, len(values), _BATCH):
            chunk = values[start : start + _BATCH]
            real = len(chunk)
            if real < _BATCH:
                padding = np.zeros((_BATCH - real, *chunk.shape[1:]), chunk.dtype)
                chunk = np.concatenate([chunk, padding])
            outputs.append(np.asarray(fn(self._params, self._state, chunk))[:real])
        return np.concatenate(outputs)

    def _check_images(self, images: np.ndarray) -> np.ndarray:
        images = np.asarray(images)
        if images.dtype != np.uint8:
            raise ValueError(f"The codec takes uint8 images; got {images.dtype}.")
        if images.ndim == 3 and self.image_shape[-1] == 1:
            images = images[..., None]
        if images.ndim != 4 or tuple(images.shape[1:]) != self.image_shape:
            raise ValueError(
                f"This model codes images of shape {self.image_shape} (height, width, "
                f"channels); got {tuple(images.shape[1:])}. Resize or crop them first."
            )
        if len(images) == 0:
            raise ValueError("No images to compress.")
        return images

    def _channel_tables(self, shape: tuple[int, ...]) -> np.ndarray:
        return np.broadcast_to(np.arange(shape[-1]), shape)

    def _scale_indices(self, z_hat: np.ndarray) -> np.ndarray:
        sigma = self._map(self._conditional_scales, z_hat.astype(np.float32))
        return np.clip(np.searchsorted(self.scales, sigma), 0, len(self.scales) - 1)

    # -- the codec ------------------------------------------------------------------

    def _symbols(self, images: np.ndarray):
        """(side symbols or None, their tables, latent symbols, their tables)."""
        x = images.astype(np.float32) / 255.0
        y = self._map(self._analysis, x)
        y_int = np.round(y).astype(np.int64)
        if not self.hyper:
            tables = self._channel_tables(y.shape)
            return None, None, self.density.symbols(y_int, tables), tables
        z = self._map(self._side, y.astype(np.float32))
        z_tables = self._channel_tables(z.shape)
        z_symbols = self.density.symbols(np.round(z).astype(np.int64), z_tables)
        y_tables = self._scale_indices(self.density.values(z_symbols, z_tables))
        return z_symbols, z_tables, self.gaussian.symbols(y_int, y_tables), y_tables

    def _latents(self, symbols: np.ndarray, tables: np.ndarray) -> np.ndarray:
        table_set = self.gaussian if self.hyper else self.density
        return table_set.values(symbols, tables).astype(np.float32)

    def reconstruct(self, images: np.ndarray) -> np.ndarray:
        """The model's quantized reconstruction of uint8 images [n, h, w, c]: what
        `decompress(compress(images))` returns, computed without coding; uint8."""
        images = self._check_images(images)
        _, _, symbols, tables = self._symbols(images)
        return to_uint8(self._map(self._synthesis, self._latents(symbols, tables)))

    def compress(self, images: np.ndarray) -> bytes:
        """uint8 images [n, h, w, c] (or [n, h, w] for one channel) -> the file's bytes."""
        images = self._check_images(images)
        stream = self._encode(*self._symbols(images))
        return write_file(CompressedFile(self.model_id, self.image_shape, len(images), stream))

    def compress_each(self, images: np.ndarray) -> list[bytes]:
        """One file per image (each with its own header and stream): what
        `compress(image[None])` gives for every image, the network run once for all."""
        images = self._check_images(images)
        z_symbols, z_tables, y_symbols, y_tables = self._symbols(images)
        files = []
        for i in range(len(images)):
            one = slice(i, i + 1)
            side = (None, None) if z_symbols is None else (z_symbols[one], z_tables[one])
            stream = self._encode(*side, y_symbols[one], y_tables[one])
            files.append(write_file(CompressedFile(self.model_id, self.image_shape, 1, stream)))
        return files

    def _encode(self, z_symbols, z_tables, y_symbols, y_tables) -> bytes:
        """One stream: the side information of every image (hyperprior), then the
        latents, each grouped by table."""
        encoder = range_coding.new_encoder()
        if self.hyper:
            range_coding.encode_symbols(encoder, z_symbols, z_tables, self.density_models)
            range_coding.encode_symbols(encoder, y_symbols, y_tables, self.gaussian_models)
        else:
            range_coding.encode_symbols(encoder, y_symbols, y_tables, self.density_models)
        return range_coding.finish(encoder)

    def decompress(self, data: bytes, *, name: str = "the file") -> np.ndarray:
        """The bytes of a file written by `compress` -> uint8 images [n, h, w, c].

        Raises:
          CodecFileError: not such a file, truncated or corrupted, a newer format, or
            written by another model (one line naming the problem and the fix).
        """
        compressed = read_file(data, name=name)
        if compressed.model_id != self.model_id:
            raise CodecFileError(
                f"{name} was compressed by another model (id {compressed.model_id.hex()}; "
                f"this run's is {self.model_id.hex()}): decompress it with the --workdir "
                "(and --step) that compressed it."
            )
        if compressed.image_shape != self.image_shape:
            raise CodecFileError(
                f"{name} holds images of shape {compressed.image_shape}; this model codes "
                f"{self.image_shape}."
            )
        count = compressed.count
        try:
            decoder = range_coding.new_decoder(compressed.stream)
            if self.hyper:
                z_tables = self._channel_tables((count, *self._side_shape()))
                z_symbols = range_coding.decode_symbols(decoder, z_tables, self.density_models)
                y_tables = self._scale_indices(self.density.values(z_symbols, z_tables))
                models = self.gaussian_models
            else:
                y_tables = self._channel_tables((count, *self.latent_shape))
                models = self.density_models
            y_symbols = range_coding.decode_symbols(decoder, y_tables, models)
        except (ValueError, RuntimeError, AssertionError) as e:
            raise CodecFileError(f"{name} is corrupted: its stream does not decode ({e}).") from e
        return to_uint8(self._map(self._synthesis, self._latents(y_symbols, y_tables)))

    def _side_shape(self) -> tuple[int, ...]:
        """The shape of one image's side information z (the hyperprior's)."""
        if self._side_shape_cache is None:
            probe = np.zeros((1, *self.latent_shape), np.float32)
            self._side_shape_cache = tuple(self._map(self._side, probe).shape[1:])
        return self._side_shape_cache
