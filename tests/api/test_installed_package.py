"""The package as a user installs it: a wheel built from this checkout, used from a
fresh process in a folder outside the repository (the shipped configs are package data;
nothing may read the repository's files)."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import REPO

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import aelab

    assert aelab.__file__.startswith(sys.argv[1]), aelab.__file__
    config = aelab.load_config("quickstart:smoke", train__num_steps=10)
    metrics = aelab.train(config, "run", progress="none")
    aelab.export("run", "exported")
    model = aelab.load("exported")
    digits = np.arange(2 * 64).reshape(2, 8, 8) % 17
    reconstructions = model.reconstruct(digits)
    same = aelab.load("run").reconstruct(digits)
    print(json.dumps({
        "shape": list(reconstructions.shape),
        "max_difference": float(np.abs(reconstructions - same).max()),
        "elbo": metrics["eval/elbo"],
    }))
    """
)


@pytest.mark.slow
def test_a_built_wheel_trains_exports_and_loads_outside_the_repository(tmp_path):
    wheels, site = tmp_path / "wheels", tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(wheels), str(REPO)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (wheel,) = wheels.glob("aelab-*.whl")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site),
         str(wheel)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    work = tmp_path / "elsewhere"
    work.mkdir()
    (work / "script.py").write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(site), "JAX_PLATFORMS": "cpu"}
    env.pop("AELAB_DATA_DIR", None)
    result = subprocess.run(
        [sys.executable, "script.py", str(site)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["shape"] == [2, 8, 8, 1]
    assert outcome["max_difference"] == 0.0
    assert outcome["elbo"] < 0
    assert (work / "exported" / "params.safetensors").is_file()
