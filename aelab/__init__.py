"""aelab: autoencoders and variational autoencoders in JAX."""

__version__ = "0.1.0"
