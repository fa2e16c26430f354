"""Two processes on loopback (jax.distributed, CPU collectives over gloo) train like one."""

import os
import pathlib
import socket
import subprocess
import sys

import numpy as np
import pytest

WORKER = pathlib.Path(__file__).with_name("multiprocess_worker.py")
REPO = WORKER.parents[2]
TIMEOUT_S = 240


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(out: pathlib.Path, process_id: int, num_processes: int, port: int):
    env = dict(os.environ)
    env["XLA_FLAGS"] = ""  # one CPU device per process, not the tests' 8 fake ones
    env["JAX_PLATFORMS"] = "cpu"
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(out), str(process_id), str(num_processes), str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait(process) -> None:
    try:
        output, _ = process.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        raise AssertionError(f"worker timed out after {TIMEOUT_S} s:\n{output[-3000:]}") from None
    assert process.returncode == 0, f"worker failed:\n{output[-3000:]}"


@pytest.mark.slow
def test_two_processes_train_like_one(tmp_path):
    port = _free_port()
    outs = [tmp_path / f"process_{i}.npz" for i in range(2)]
    workers = [_launch(out, i, 2, port) for i, out in enumerate(outs)]
    single = _launch(tmp_path / "single.npz", 0, 1, port)
    for process in [*workers, single]:
        _wait(process)

    params = [dict(np.load(out)) for out in outs]
    reference = dict(np.load(tmp_path / "single.npz"))
    assert params[0].keys() == params[1].keys() == reference.keys()
    for name in reference:
        np.testing.assert_array_equal(params[0][name], params[1][name], err_msg=name)
        np.testing.assert_allclose(params[0][name], reference[name], rtol=1e-5, atol=1e-6)
    # The comparison is between trained parameters, not initial ones.
    final = [name for name in reference if name.startswith("final")]
    assert final and all(
        not np.array_equal(reference[name], reference[name.replace("final", "initial", 1)])
        for name in final
    )
