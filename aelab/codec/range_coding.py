"""Range coding of integer symbols with `constriction`, each symbol with its own table.

Symbols are coded grouped by table, in increasing table order (and in their order within
a group), so that one `Categorical` model per table codes a whole group at once; the
decoder knows every symbol's table before it decodes (factorized prior: the channel; the
hyperprior's latents: the scale index given by the side information decoded first).
"""

from __future__ import annotations

import constriction
import numpy as np

from aelab.codec.tables import SymbolTables


class TableModels:
    """The coder's model of each table, built once from the integer tables (both the
    encoder and the decoder build them from the same integers with the same code, so
    they agree bit for bit)."""

    def __init__(self, tables: SymbolTables):
        self.tables = tables
        self._models: dict[int, object] = {}

    def model(self, table: int):
        if table not in self._models:
            self._models[table] = constriction.stream.model.Categorical(
                self.tables.probabilities(table), perfect=False
            )
        return self._models[table]


def encode_symbols(encoder, symbols: np.ndarray, tables: np.ndarray, models: TableModels) -> None:
    """Appends `symbols` [N] (indices into their tables) coded with `tables` [N]."""
    symbols, tables = symbols.ravel(), tables.ravel()
    order = np.argsort(tables, kind="stable")
    sorted_tables = tables[order]
    for table in np.unique(sorted_tables):
        chosen = order[sorted_tables == table]
        encoder.encode(symbols[chosen].astype(np.int32), models.model(int(table)))


def decode_symbols(decoder, tables: np.ndarray, models: TableModels) -> np.ndarray:
    """The inverse of `encode_symbols`: the symbols [N] of `tables` [N]."""
    flat = tables.ravel()
    symbols = np.empty(len(flat), np.int64)
    order = np.argsort(flat, kind="stable")
    sorted_tables = flat[order]
    for table in np.unique(sorted_tables):
        chosen = order[sorted_tables == table]
        symbols[chosen] = decoder.decode(models.model(int(table)), len(chosen))
    return symbols.reshape(tables.shape)


def new_encoder():
    return constriction.stream.queue.RangeEncoder()


def finish(encoder) -> bytes:
    """The encoder's compressed words as little-endian bytes."""
    return np.asarray(encoder.get_compressed(), dtype="<u4").tobytes()


def new_decoder(data: bytes):
    if len(data) % 4:
        raise ValueError("a range-coded stream is a whole number of 32-bit words")
    return constriction.stream.queue.RangeDecoder(
        np.frombuffer(data, dtype="<u4").astype(np.uint32)
    )
