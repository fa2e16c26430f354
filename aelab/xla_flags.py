"""The XLA flags aelab sets for the CPU backend, and where they are applied.

This is the one place aelab touches `XLA_FLAGS`. `import aelab` calls
`apply_cpu_flags()`, which appends each flag of `CPU_FLAGS` to the environment variable
unless:

- the user's own `XLA_FLAGS` already sets that flag (theirs wins), or
  `AELAB_XLA_CPU_FLAGS=0` is set (aelab adds nothing);
- the installed jaxlib is not one the flag was measured on (`MEASURED_JAXLIB`): XLA
  aborts on flags it does not know, and a flag's effect changes between releases;
- JAX has already initialised its backends (XLA reads `XLA_FLAGS` once, when the first
  backend starts): then nothing is added and a logged warning says to import aelab
  first, or to set the flags yourself before starting Python.

`experiments/*.py` import aelab before anything touches a device, so the flags apply to
every run started from them; library users get them by importing aelab before creating
arrays. The flags only change XLA's CPU compiler: GPU and TPU computations are
unaffected.

Why each flag is here (measured on a 2-core AMD EPYC, jaxlib 0.10.2; see
docs/performance.md for the numbers):

- `--xla_cpu_experimental_ynn_fusion_type=-individual_convolution` keeps single
  convolutions off YNNPACK and on XLA's Eigen convolutions, which were faster for every
  convolution of aelab's conv models on that CPU; matrix multiplications keep using
  YNNPACK.
"""

from __future__ import annotations

import importlib.metadata
import os

from absl import logging

CPU_FLAGS: dict[str, str] = {
    "xla_cpu_experimental_ynn_fusion_type": "-individual_convolution",
}
# jaxlib major.minor versions on which CPU_FLAGS were measured to help.
MEASURED_JAXLIB: tuple[str, ...] = ("0.10",)
OPT_OUT_VARIABLE = "AELAB_XLA_CPU_FLAGS"


def _jaxlib_minor() -> str | None:
    try:
        version = importlib.metadata.version("jaxlib")
    except importlib.metadata.PackageNotFoundError:
        return None
    return ".".join(version.split(".")[:2])


def _backends_initialized() -> bool:
    from jax._src import xla_bridge

    return xla_bridge.backends_are_initialized()


def flags_to_add(xla_flags: str, jaxlib_minor: str | None) -> list[str]:
    """The `--name=value` flags of CPU_FLAGS that `xla_flags` does not set already
    (none when `jaxlib_minor` is not in MEASURED_JAXLIB)."""
    if jaxlib_minor not in MEASURED_JAXLIB:
        return []
    given = {flag.split("=", 1)[0].lstrip("-") for flag in xla_flags.split()}
    return [f"--{name}={value}" for name, value in CPU_FLAGS.items() if name not in given]


def apply_cpu_flags(environ: os._Environ | dict | None = None) -> list[str]:
    """Appends aelab's CPU flags to `environ["XLA_FLAGS"]` (see the module docstring for
    when it does not). Returns the flags it added."""
    environ = os.environ if environ is None else environ
    if environ.get(OPT_OUT_VARIABLE, "1") == "0":
        return []
    current = environ.get("XLA_FLAGS", "")
    added = flags_to_add(current, _jaxlib_minor())
    if not added:
        return []
    if _backends_initialized():
        logging.warning(
            "JAX started its backends before aelab was imported, so aelab's XLA CPU "
            "flags (%s) are not applied and CPU convolutions may be slower. Import aelab "
            "before creating JAX arrays, or set XLA_FLAGS before starting Python "
            "(%s=0 silences this).",
            " ".join(added),
            OPT_OUT_VARIABLE,
        )
        return []
    environ["XLA_FLAGS"] = " ".join([current, *added]).strip()
    return added
