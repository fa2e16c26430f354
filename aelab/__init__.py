"""aelab: autoencoders and variational autoencoders in JAX.

    import aelab
    config = aelab.load_config("quickstart:smoke")   # a shipped config, or a path
    aelab.train(config, "runs/qs")                   # progress bar in notebooks
    model = aelab.load("runs/qs")                    # a work directory or exported model
    recon = model.reconstruct(images)                # NumPy in, NumPy out

The top-level functions come from `aelab.api`, imported on first use: `import aelab`
alone does not import JAX.
"""

from aelab.version import __version__
from aelab.xla_flags import apply_cpu_flags

# Before anything can start a JAX backend: XLA reads XLA_FLAGS only then.
apply_cpu_flags()

_API = (
    "TrainedModel",
    "evaluate",
    "export",
    "list_configs",
    "load",
    "load_config",
    "push_to_hub",
    "read_metrics",
    "train",
)


def __getattr__(name: str):
    if name in _API:
        import aelab.api

        return getattr(aelab.api, name)
    raise AttributeError(f"module 'aelab' has no attribute {name!r}")


__all__ = ["__version__", *_API]


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
