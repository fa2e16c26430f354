"""experiments/train.py on bad input: one clear line naming the problem, no traceback,
exit status 1, and nothing trained."""

import gzip
import json
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

from tests.data.raw_files import idx_bytes, write_mnist_folder

REPO = pathlib.Path(__file__).resolve().parents[2]

# One case of each kind runs in the README tier; the others in the slow tier.
SLOW = pytest.mark.slow


def _train(tmp_path, *flags: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, AELAB_TFDS_DIR=str(tmp_path / "tfds"))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "experiments/train.py", f"--workdir={tmp_path / 'run'}", *flags],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _wrong_magic(path: pathlib.Path) -> None:
    images = np.zeros((20, 28, 28), np.uint8)
    data = bytearray(idx_bytes(images))
    data[3] = 0x99  # magic 2051 -> 2201
    path.write_bytes(gzip.compress(bytes(data)))


def _truncated(path: pathlib.Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize(
    "damage, message",
    [
        (_wrong_magic, r"has magic number 2201; expected 2051"),
        pytest.param(
            _truncated, r"The file is truncated or corrupt; download it again", marks=SLOW
        ),
    ],
)
def test_corrupt_data_file_is_named_before_training_starts(tmp_path, damage, message):
    folder = tmp_path / "data" / "mnist"
    write_mnist_folder(folder, n_train=20, n_test=10)
    bad_file = folder / "train-images-idx3-ubyte.gz"
    damage(bad_file)
    result = _train(
        tmp_path,
        "--config=configs/mnist_dense.py:vae,smoke",
        f"--config.data.data_dir={tmp_path / 'data'}",
        "--config.mesh.num_devices=1",
        "--config.data.batch_size=8",
        "--config.data.eval_batch_size=8",
    )
    assert result.returncode == 1, result.stderr[-3000:]
    [error] = [line for line in result.stderr.splitlines() if line.startswith("E")]
    assert str(bad_file) in error
    assert re.search(message, error), error
    assert "Traceback" not in result.stderr
    assert "Model dense_vae" not in result.stderr  # Failed before building the model.
    assert os.listdir(tmp_path / "run" / "checkpoints") == []


@pytest.mark.slow  # the bad enum values below are the README tier's case of this
def test_invalid_config_is_one_line_without_traceback(tmp_path):
    result = _train(tmp_path, "--config=configs/quickstart.py", "--config.train.num_steps=-5")
    assert result.returncode == 1
    assert "config.train.num_steps=-5 is not valid: must be an integer >= 1" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_misspelled_override_is_one_line_without_traceback(tmp_path):
    result = _train(tmp_path, "--config=configs/quickstart.py", "--config.train.lerning_rate=1")
    assert result.returncode == 1
    assert "config.train.lerning_rate is not a known field" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_the_options_of_a_component_chosen_on_the_command_line_can_be_set(tmp_path):
    """The file's config names adam, which has no weight_decay: switching to adamw on the
    command line brings its options, and a misspelled one is one line, nothing written."""
    typo = _train(
        tmp_path,
        "--config=configs/quickstart.py:smoke",
        "--config.optimizer.name=adamw",
        "--config.optimizer.weight_decy=0.05",
    )
    assert typo.returncode == 1
    assert "config.optimizer.weight_decy is not a known field for optimizer 'adamw'" in typo.stderr
    assert "did you mean 'weight_decay'" in typo.stderr and "Traceback" not in typo.stderr
    assert not (tmp_path / "run").exists()
    result = _train(
        tmp_path,
        "--config=configs/quickstart.py:smoke",
        "--config.optimizer.name=adamw",
        "--config.optimizer.weight_decay=0.05",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    saved = json.loads((tmp_path / "run" / "config.json").read_text())["optimizer"]
    assert (saved["name"], saved["weight_decay"]) == ("adamw", 0.05)


@pytest.mark.parametrize(
    "flag, message",
    [
        pytest.param(
            "--config.train.compute_dtype=float8",
            "config.train.compute_dtype='float8' is not valid: did you mean 'float32'? It must "
            "be one of 'float32', 'bfloat16'.",
            marks=SLOW,
        ),
        pytest.param(
            "--config.data.device_resident=sometimes",
            "config.data.device_resident='sometimes' is not valid: must be one of 'auto', "
            "'always', 'never'.",
            marks=SLOW,
        ),
        pytest.param(
            "--config.mesh.param_sharding=zero3",
            "config.mesh.param_sharding='zero3' is not valid: must be one of 'replicated', 'fsdp'.",
            marks=SLOW,
        ),
        pytest.param(
            "--config.data.corruption.name=blur",
            "config.data.corruption.name='blur' is not valid: Unknown corruption 'blur'; "
            "Valid corruption names: gaussian_noise, masking, none, salt_and_pepper.",
            marks=SLOW,
        ),
    ],
)
def test_bad_enum_values_are_one_config_error_line_and_nothing_is_written(tmp_path, flag, message):
    result = _train(tmp_path, "--config=configs/quickstart.py:smoke", flag)
    assert result.returncode == 1, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("E")]
    assert len(errors) == 1 and errors[0].endswith(message), result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists()  # no config.json, no lock, no checkpoints


@pytest.mark.parametrize(
    "config, message",
    [
        ("configs/missing.py", "FATAL: Config file configs/missing.py does not exist"),
        pytest.param(
            "{broken}",
            "failed to load: NameError: name 'undefined_name' is not defined.",
            marks=SLOW,
        ),
        pytest.param(
            "configs/quickstart.py:fast",
            "get_config('fast') failed: ValueError: Unknown config ",
            marks=SLOW,
        ),
    ],
)
def test_a_missing_or_broken_config_file_is_one_line(tmp_path, config, message):
    broken = tmp_path / "broken.py"
    broken.write_text("undefined_name\n")
    result = _train(tmp_path, f"--config={config.format(broken=broken)}")
    assert result.returncode == 1, result.stderr[-3000:]
    assert message in result.stderr, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "run").exists()
