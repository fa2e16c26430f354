"""Fixtures for sweep tests: a PostgreSQL URL, sweep files, subprocess environments."""

import os
import textwrap

import pytest

from tests.conftest import REPO


@pytest.fixture
def postgres_url():
    """The test server's URL (.ci/start_postgres.sh exports it).

    Skips only outside CI: under CI=true a missing server fails the test, since the
    issue demands that the PostgreSQL sweep runs in CI.
    """
    url = os.environ.get("AELAB_TEST_POSTGRES_URL")
    if not url:
        message = (
            "AELAB_TEST_POSTGRES_URL is not set; start a server with "
            'eval "$(bash .ci/start_postgres.sh "$(mktemp -d)")"'
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return url


def write_sweep_file(directory, body: str, name: str = "sweep_under_test.py") -> str:
    """Writes a sweep file whose get_sweep() returns `body`'s Sweep; returns its path.

    `body` is the expression after `return`, with QUICKSTART naming configs/quickstart.py.
    """
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(
            textwrap.dedent(
                f"""\
                import optuna
                from aelab.sweeps import Choice, Float, Int, Sweep

                QUICKSTART = {str(REPO / "configs" / "quickstart.py")!r}
                SMOKE = {{
                    "mesh.num_devices": 1,
                    "train.log_every": 10,
                    "train.eval_every": 10,
                    "train.checkpoint_every": 10,
                }}


                def get_sweep(arg=None):
                    return {textwrap.indent(textwrap.dedent(body), " " * 20).strip()}
                """
            )
        )
    return path


def subprocess_env() -> dict:
    """This environment for a child `sweep.py`, without the tests' 8 fake devices."""
    env = dict(os.environ)
    flags = env.get("XLA_FLAGS", "").split()
    env["XLA_FLAGS"] = " ".join(f for f in flags if "device_count" not in f)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).strip(os.pathsep)
    return env
