"""aelab: autoencoders and variational autoencoders in JAX."""

from aelab.xla_flags import apply_cpu_flags

__version__ = "0.1.0"

# Before anything can start a JAX backend: XLA reads XLA_FLAGS only then.
apply_cpu_flags()
