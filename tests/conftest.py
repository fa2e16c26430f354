"""Test set-up: 8 fake CPU devices for sharding tests, quiet logs, shared helpers.

The XLA flag must be set before JAX initialises its backend, hence at import time here;
aelab is imported right after so that its own CPU flags (aelab/xla_flags.py) apply too.
"""

import os

os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"
).strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")
if "AELAB_TFDS_DIR" not in os.environ:
    # Prepared data sets go to a scratch dir, never the user's ~/.cache.
    import tempfile

    os.environ["AELAB_TFDS_DIR"] = tempfile.mkdtemp(prefix="aelab-test-tfds-")
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    # One persistent compilation cache for the whole session: the pytest-xdist workers
    # and the scripts tests start inherit it (the variable is set before they start), so
    # a program compiled by one test (the same model, shapes and step) is loaded by the
    # next instead of compiled again. The programs are the very same, so results are too;
    # it is made fresh per session, never reused across runs.
    import tempfile

    os.environ["JAX_COMPILATION_CACHE_DIR"] = tempfile.mkdtemp(prefix="aelab-test-jax-cache-")
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")

import importlib.util
import pathlib

import jax
import pytest

import aelab  # noqa: F401  (applies aelab's XLA CPU flags before any backend starts)

REPO = pathlib.Path(__file__).resolve().parents[1]
CONFIG_DIR = REPO / "configs"


def load_module(path, name: str | None = None):
    """The Python file at `path` loaded as a module (named `name`, default its stem):
    the docs' scripts, configs and guide examples, which are not importable packages."""
    path = pathlib.Path(path)
    spec = importlib.util.spec_from_file_location(name or path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def config_module(file: str):
    """The module of configs/<file>.py, loaded from its file like --config does."""
    return load_module(CONFIG_DIR / f"{file}.py", f"aelab_test_config_{file.replace('/', '_')}")


def load_config(name: str, arg: str | None = None):
    """The config `name` names, as `all_config_names` gives it: `get_config(arg)` of
    configs/<name>.py, or for "<file>:<variant>" (a variant of a file that holds several)
    `get_config("<variant>")` of configs/<file>.py, `get_config("<variant>,<arg>")` with
    an arg (`load_config("ecg5000_recurrent:lstm_ae", "smoke")`)."""
    file, _, variant = name.partition(":")
    if variant:
        arg = variant if arg is None else f"{variant},{arg}"
    module = config_module(file)
    return module.get_config(arg) if arg is not None else module.get_config()


@pytest.fixture
def tiny_config():
    """The quickstart config shrunk to a few fast steps on one device."""
    config = load_config("quickstart", "smoke")
    config.mesh.num_devices = 1
    config.model.hidden_dims = (32,)
    config.model.latent_dim = 4
    config.data.batch_size = 16
    config.data.eval_batch_size = 64
    config.train.num_steps = 8
    config.train.log_every = 2
    config.train.eval_every = 4
    config.train.checkpoint_every = 4
    config.train.steps_per_call = 2
    # Resume tests stop a run by giving it fewer steps, then extend it; a decaying
    # schedule is a function of num_steps, so only a constant one keeps them one run.
    config.optimizer.schedule = "constant"
    return config


def tiny_codec(config, lmbda: float = 0.01):
    """`config` (a `tiny_config`) turned into a tiny learned codec on the 8x8 digits: a
    dense factorized prior trained on rate + lmbda distortion, no evaluators."""
    config.data.flatten = False
    config.model = {
        "name": "factorized_prior",
        "transform": "dense",
        "channels": (32,),
        "latent_dim": 8,
    }
    config.objective = {"name": "rate_distortion", "likelihood": "mse", "lmbda": lmbda}
    config.evals = {}
    return config


SWEEP_DIR = CONFIG_DIR / "sweeps"


def all_config_names() -> list[str]:
    """Every experiment config under configs/: a file's path relative to it without .py,
    or for a file that holds several experiments (a module-level `VARIANTS` tuple of
    their names) each as "<file>:<variant>" (sweep files under configs/sweeps/ are not
    experiment configs)."""
    names = []
    for path in CONFIG_DIR.rglob("*.py"):
        if path.name.startswith("_") or SWEEP_DIR in path.parents:
            continue
        file = str(path.relative_to(CONFIG_DIR).with_suffix(""))
        variants = getattr(config_module(file), "VARIANTS", None)
        names += [f"{file}:{v}" for v in variants] if variants else [file]
    return sorted(names)


def all_sweep_files() -> list[str]:
    """Every sweep file under configs/sweeps/, as paths."""
    return sorted(str(p) for p in SWEEP_DIR.glob("*.py") if not p.name.startswith("_"))


def needs_local_data(config) -> bool:
    """Whether a config reads files from AELAB_DATA_DIR (anything but the embedded set)."""
    return config.data.name != "digits"


def missing_local_data(config) -> str | None:
    """Why the data files of `config` are not here (None when they are): AELAB_DATA_DIR
    is unset, or a UCR data set's folder is not in it (the UCR sets are not in the
    shared data folder CI has)."""
    if not needs_local_data(config):
        return None
    root = os.environ.get("AELAB_DATA_DIR")
    if not root:
        return "AELAB_DATA_DIR is not set: this config reads local data files"
    name = config.data.name
    if name.startswith("ucr:") and not (pathlib.Path(root) / "ucr" / name[4:]).is_dir():
        return f"the UCR data set {name[4:]} is not in {root}/ucr/"
    return None


def skip_without_metadata(config) -> None:
    """Skips a test that reads `config`'s data set metadata when the data set keeps it in
    its files and they are not here (UCR sets; MNIST and the others know theirs)."""
    why = missing_local_data(config)
    if why is not None and config.data.name.startswith("ucr:"):
        pytest.skip(why)


def pytest_report_header(config):
    return f"jax {jax.__version__}, {jax.device_count()} devices ({jax.default_backend()})"
