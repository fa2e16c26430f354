"""Checksums that let a restore tell a good checkpoint from a damaged one.

Orbax checks the structure of what it reads (a truncated array file or manifest fails
to open), but not the values: flipping bytes inside a stored array restores without
error and yields wrong parameters (measured with orbax 0.12.8: see docs/reliability.md).
So every checkpoint also stores a fingerprint of the train state, computed on the
devices when it is saved, and of the loop's JSON bookkeeping; a restore recomputes them
and compares.

The state fingerprint of an array is two wrapping uint32 sums over its bit pattern,
viewed as 32-bit words w_1..w_n (smaller types widened, 64-bit types split):
  s1 = sum_i w_i   and   s2 = sum_i i * w_i   (mod 2^32),
a Fletcher-style pair: any change of one word changes s1, and swapped or shifted words
change s2. It runs as one jitted reduction over the sharded state, so it works
unchanged on many devices and many hosts, and costs one pass over the state per save.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


class CorruptCheckpointError(ValueError):
    """A checkpoint's contents do not match the checksums written with it."""


def _words(x: jax.Array) -> jax.Array:
    """The bit pattern of `x` as a flat uint32 vector."""
    if jnp.issubdtype(x.dtype, jax.dtypes.prng_key):
        x = jax.random.key_data(x)
    if x.dtype == jnp.bool_:
        return x.astype(jnp.uint32).reshape(-1)
    unsigned = {1: jnp.uint8, 2: jnp.uint16, 4: jnp.uint32, 8: jnp.uint32}[x.dtype.itemsize]
    return jax.lax.bitcast_convert_type(x, unsigned).astype(jnp.uint32).reshape(-1)


def _leaf_fingerprint(x: jax.Array) -> jax.Array:
    words = _words(jnp.asarray(x))
    position = jnp.arange(1, words.size + 1, dtype=jnp.uint32)
    return jnp.stack(
        [jnp.sum(words, dtype=jnp.uint32), jnp.sum(words * position, dtype=jnp.uint32)]
    )


@jax.jit
def _tree_fingerprint(tree: Any) -> Any:
    return jax.tree.map(_leaf_fingerprint, tree)


def _to_host(x: jax.Array) -> np.ndarray:
    # The result is replicated: any local shard holds all of it, on every host.
    return np.asarray(x if x.is_fully_addressable else x.addressable_data(0))


def state_fingerprint(state: Any) -> dict[str, list[int]]:
    """{leaf path: [s1, s2]} for every array of `state` (a pytree of jax Arrays)."""
    sums = _tree_fingerprint(state)
    return {
        jax.tree_util.keystr(path): [int(v) for v in _to_host(value)]
        for path, value in jax.tree_util.tree_flatten_with_path(sums)[0]
    }


def json_digest(value: Any) -> str:
    """sha256 of the canonical JSON text of `value`."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def integrity_record(state: Any, loop_state: dict) -> dict:
    """What a checkpoint stores to be verified later."""
    return {"state": state_fingerprint(state), "loop": json_digest(loop_state)}


def verify(record: dict, state: Any, loop_state: dict | None, *, where: str) -> None:
    """Raises CorruptCheckpointError if `state` / `loop_state` differ from `record`.

    `loop_state` None skips the loop check (a restore of the state alone).
    """
    actual = state_fingerprint(state)
    expected = record["state"]
    damaged = sorted(
        path for path in set(actual) | set(expected) if actual.get(path) != expected.get(path)
    )
    if damaged:
        shown = ", ".join(damaged[:5]) + (
            f" and {len(damaged) - 5} more" if len(damaged) > 5 else ""
        )
        raise CorruptCheckpointError(
            f"{where}: the restored train state does not match the checksums saved with it "
            f"({len(damaged)} of {len(expected)} arrays differ: {shown})."
        )
    if loop_state is not None and json_digest(loop_state) != record["loop"]:
        raise CorruptCheckpointError(
            f"{where}: the loop bookkeeping does not match the checksum saved with it."
        )


_KEY = re.compile(r"\.(\w+)|\['([^']*)'\]|\[(\d+)\]")


def path_name(keystr: str) -> str:
    """A fingerprint's leaf path as a "/"-joined name: ".params['mlp'][0]" -> "params/mlp/0"."""
    return "/".join("".join(parts) for parts in _KEY.findall(keystr))


def verify_weights(record: dict, flat: dict[str, Any], *, where: str) -> None:
    """Raises CorruptCheckpointError if the arrays `flat` ({"params/<path>": array, ...},
    part of a saved train state) differ from their entries in `record`."""
    expected = {path_name(path): sums for path, sums in record["state"].items()}
    actual = {
        name: sums
        for name, sums in zip(flat, state_fingerprint(list(flat.values())).values(), strict=True)
    }
    damaged = sorted(name for name, sums in actual.items() if expected.get(name) != sums)
    if damaged:
        raise CorruptCheckpointError(
            f"{where}: the restored weights do not match the checksums saved with them "
            f"({len(damaged)} of {len(actual)} arrays differ, the first {damaged[0]})."
        )
