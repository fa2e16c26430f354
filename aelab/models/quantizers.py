"""The quantiser registry: which bottleneck a `<family>_vqvae` model puts between its
encoder and decoder (`config.model.quantizer`).

Every quantiser maps z_e [batch, num_vectors, code_dim] to (z_q with straight-through
gradients [batch, num_vectors, code_dim], indices [batch, num_vectors] or, with stages,
[batch, num_vectors, num_stages], per-example losses {name: [batch]}, per-example
metrics {name: [batch]}), and has `code_dim`, `codebook_size` (codes per stage) and
`num_stages`:

  - "vq": `aelab.models.vq` (nearest codebook vector; EMA, restarts, cosine, lookup_dim);
  - "fsq": `aelab.models.fsq` (finite scalar quantisation, implicit prod(levels) codes);
  - "rvq": `aelab.models.rvq` (residual VQ, SoundStream);
  - "lfq": `aelab.models.lfq` (lookup-free, sign per value, implicit 2^code_dim codes).

Each one's options live in its module; `QuantizedOptions` joins them with the choice.
"""

from __future__ import annotations

from flax import nnx

from aelab.core.options import option, options_class
from aelab.core.registry import Registry
from aelab.models import fsq, lfq, rvq, vq

QUANTIZERS = Registry("quantizer")
QUANTIZERS.register("vq", options=vq.QuantizerOptions)(vq.build_vector_quantizer)
QUANTIZERS.register("fsq", options=fsq.FSQOptions)(fsq.build_fsq)
QUANTIZERS.register("rvq", options=rvq.RVQOptions)(rvq.build_rvq)
QUANTIZERS.register("lfq", options=lfq.LFQOptions)(lfq.build_lfq)


@options_class
class QuantizedOptions(rvq.RVQOptions, fsq.FSQOptions, lfq.LFQOptions):
    """`config.model` options of the quantised bottleneck: the choice of quantiser and
    every quantiser's options (only the chosen one's are read and checked)."""

    quantizer: str = option(
        "vq", "the quantiser (vq, fsq, rvq, lfq)", choices=QUANTIZERS.names, kind="quantizer"
    )

    def check(self):
        if self.quantizer in QUANTIZERS:
            yield from QUANTIZERS.options(self.quantizer).check(self)


def build_quantizer(options: QuantizedOptions, rngs: nnx.Rngs) -> nnx.Module:
    """The quantiser `options.quantizer` (unknown names raise, listing the valid ones)."""
    return QUANTIZERS.get(options.quantizer)(options, rngs)
