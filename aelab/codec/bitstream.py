"""The compressed file format (version 1).

    magic      4 bytes  b"AELC"
    version    1 byte   FORMAT_VERSION
    model id   8 bytes  hash of the model's parameters and coder tables
    count, height, width, channels   unsigned LEB128 varints
    stream     the range-coded symbols of all the images (32-bit words)
    checksum   4 bytes  CRC-32 of everything before it, little-endian

The images of a file share one stream (a range coder's flush costs up to two 32-bit
words, as much as a third of a digit's bits if every image had its own) and one header,
so the file size over the count is the rate per image with both amortised; a file of
one image counts its own header and flush.
"""

from __future__ import annotations

import dataclasses
import zlib

MAGIC = b"AELC"
FORMAT_VERSION = 1
MODEL_ID_BYTES = 8


class CodecFileError(ValueError):
    """A compressed file that cannot be decoded (one line: what is wrong, and the fix)."""


@dataclasses.dataclass(frozen=True)
class CompressedFile:
    """A parsed file: the model it needs, the image shape and count, and the stream."""

    model_id: bytes
    image_shape: tuple[int, int, int]
    count: int
    stream: bytes


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _read_varint(data: bytes, position: int, what: str) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if position >= len(data):
            raise CodecFileError(f"the file is truncated (it ends inside the {what})")
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, position
        if shift > 63:
            raise CodecFileError(f"the file is corrupted (a bad {what})")


def write_file(compressed: CompressedFile) -> bytes:
    """The bytes of `compressed` (see the module docstring)."""
    if len(compressed.model_id) != MODEL_ID_BYTES:
        raise ValueError(f"A model id is {MODEL_ID_BYTES} bytes.")
    parts = [MAGIC, bytes([FORMAT_VERSION]), compressed.model_id, _varint(compressed.count)]
    parts += [_varint(size) for size in compressed.image_shape]
    body = b"".join([*parts, compressed.stream])
    return body + zlib.crc32(body).to_bytes(4, "little")


def read_file(data: bytes, *, name: str = "the file") -> CompressedFile:
    """Parses bytes written by `write_file`; raises CodecFileError (one line naming
    `name`, the problem and the fix) for anything else."""
    header = len(MAGIC) + 1 + MODEL_ID_BYTES
    if data[: len(MAGIC)] != MAGIC:
        raise CodecFileError(
            f"{name} is not an aelab compressed file (it does not start with {MAGIC!r}); "
            "give a file written by `experiments/codec.py compress`."
        )
    if len(data) < header + 4:
        raise CodecFileError(f"{name} is truncated ({len(data)} bytes); compress it again.")
    version = data[len(MAGIC)]
    if version > FORMAT_VERSION:
        raise CodecFileError(
            f"{name} was written in codec format version {version}, newer than this "
            f"aelab's {FORMAT_VERSION}; update aelab to decompress it."
        )
    if version < 1:
        raise CodecFileError(f"{name} has an unknown codec format version {version}.")
    body, checksum = data[:-4], int.from_bytes(data[-4:], "little")
    if zlib.crc32(body) != checksum:
        raise CodecFileError(
            f"{name} is truncated or corrupted (its CRC-32 does not match); compress the "
            "images again."
        )
    model_id = body[len(MAGIC) + 1 : header]
    position = header
    count, position = _read_varint(body, position, "image count")
    shape = []
    for what in ("height", "width", "channels"):
        value, position = _read_varint(body, position, what)
        shape.append(value)
    stream = body[position:]
    if count == 0 or len(stream) % 4:
        raise CodecFileError(
            f"{name} is corrupted (a stream of {len(stream)} bytes for {count} images)"
        )
    return CompressedFile(model_id=model_id, image_shape=tuple(shape), count=count, stream=stream)
