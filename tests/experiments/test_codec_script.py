"""experiments/codec.py: compress a folder of PNGs to one file, decompress it to the
model's quantized reconstructions exactly; bad files get one line and write nothing."""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from aelab.codec.image_files import read_images
from aelab.evaluation import load_run, train_and_evaluate
from aelab.evaluation.rate_distortion import codec_for_run
from tests.conftest import tiny_codec

REPO = pathlib.Path(__file__).resolve().parents[2]


def _codec_script(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "experiments/codec.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _error_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("E")]


@pytest.mark.slow  # trains a tiny codec, then three runs of the script (about 40 s)
def test_compress_a_folder_and_decompress_it_exactly(tmp_path, tiny_config):
    config = tiny_codec(tiny_config)
    run_dir = str(tmp_path / "run")
    train_and_evaluate(config, run_dir)

    folder = tmp_path / "digits"
    folder.mkdir()
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (5, 8, 8), dtype=np.uint8)
    for i, image in enumerate(images):
        Image.fromarray(image).save(folder / f"digit_{i}.png")
    packed = tmp_path / "digits.aelc"
    result = _codec_script(
        "compress", f"--workdir={run_dir}", f"--input={folder}", f"--output={packed}"
    )
    assert result.returncode == 0, result.stderr
    decoded_dir = tmp_path / "decoded"
    result = _codec_script(
        "decompress", f"--workdir={run_dir}", f"--input={packed}", f"--output={decoded_dir}"
    )
    assert result.returncode == 0, result.stderr
    decoded = read_images(str(decoded_dir))
    codec = codec_for_run(load_run(run_dir))
    assert np.array_equal(decoded, codec.reconstruct(images[..., None]))
    assert sorted(os.listdir(decoded_dir)) == [f"{i:06d}.png" for i in range(5)]

    damaged = tmp_path / "damaged.aelc"
    damaged.write_bytes(packed.read_bytes()[:-3])
    result = _codec_script(
        "decompress",
        f"--workdir={run_dir}",
        f"--input={damaged}",
        f"--output={tmp_path / 'nothing'}",
    )
    assert result.returncode == 1
    errors = _error_lines(result)
    assert len(errors) == 1 and "truncated or corrupted" in errors[0], result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "nothing").exists()
