"""Learned image codecs as real codecs: integer entropy-coder tables computed once from a
trained compressive model, range coding with `constriction`, and a versioned file format.

    codec = LearnedCodec.from_trained(graphdef, params, model_state, tables_dir=...)
    data = codec.compress(images)          # uint8 [n, h, w, c] -> bytes
    images = codec.decompress(data)        # -> uint8 [n, h, w, c]

`experiments/codec.py` wraps this as `compress` / `decompress` commands; the
`rate_distortion` evaluator measures its files against the classic codecs.
"""

from aelab.codec.bitstream import CodecFileError
from aelab.codec.learned_codec import LearnedCodec, load_codec_tables
from aelab.codec.tables import SymbolTables

__all__ = ["CodecFileError", "LearnedCodec", "SymbolTables", "load_codec_tables"]
