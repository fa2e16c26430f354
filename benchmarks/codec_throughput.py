r"""Benchmark: compress and decompress throughput of a learned codec on the CPU.

  python benchmarks/codec_throughput.py --workdir=runs/mnist_codec_lmbda-0.01
  python benchmarks/codec_throughput.py            # a fresh factorized_prior (dense)

Codes --num_images images (the run's test images, or random 28x28 ones without a run)
into one file and back, --repetitions times after a warm-up (which compiles the model's
calls), and reports the median images per second of each direction, the file's bits per
image, and that the round trip is exact. Writes one JSON object to --output (default
benchmarks/results/codec_throughput.json) and prints it.
"""

import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import ml_collections
import numpy as np
from absl import app, flags
from flax import nnx

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from aelab.codec import LearnedCodec  # noqa: E402
from aelab.codec.image_files import to_uint8  # noqa: E402
from aelab.evaluation import load_run  # noqa: E402
from aelab.evaluation.context import EvalContext  # noqa: E402
from aelab.evaluation.rate_distortion import codec_for_run  # noqa: E402
from aelab.models import build_model  # noqa: E402
from aelab.training.state import split_model  # noqa: E402

_WORKDIR = flags.DEFINE_string("workdir", None, "A trained codec run (default: a fresh model).")
_NUM_IMAGES = flags.DEFINE_integer("num_images", 1000, "Images per file.")
_REPETITIONS = flags.DEFINE_integer("repetitions", 5, "Timed repetitions of each direction.")
_OUTPUT = flags.DEFINE_string(
    "output", os.path.join(REPO, "benchmarks", "results", "codec_throughput.json"), "JSON file."
)


def _fresh_codec(directory: str) -> LearnedCodec:
    config = ml_collections.ConfigDict(
        {
            "name": "factorized_prior",
            "transform": "dense",
            "channels": (1000, 500),
            "latent_dim": 64,
        }
    )
    graphdef, params, state = split_model(build_model(config, (28, 28, 1), rngs=nnx.Rngs(0)))
    return LearnedCodec(graphdef, params, state, (28, 28, 1), os.path.join(directory, "t.npz"))


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return ""


def main(argv):
    del argv
    with tempfile.TemporaryDirectory() as scratch:
        if _WORKDIR.value:
            run = load_run(_WORKDIR.value)
            codec = codec_for_run(run)
            data = EvalContext(run, scratch).split("eval", max_examples=_NUM_IMAGES.value)
            images = to_uint8(data.inputs)
        else:
            codec = _fresh_codec(scratch)
            rng = np.random.default_rng(0)
            images = rng.integers(0, 256, (_NUM_IMAGES.value, 28, 28, 1), dtype=np.uint8)
        stream = codec.compress(images)  # warm-up: compiles every call
        codec.decompress(stream)
        compress, decompress = [], []
        for _ in range(_REPETITIONS.value):
            start = time.perf_counter()
            stream = codec.compress(images)
            compress.append(time.perf_counter() - start)
            start = time.perf_counter()
            decoded = codec.decompress(stream)
            decompress.append(time.perf_counter() - start)
        result = {
            "workdir": _WORKDIR.value,
            "images": len(images),
            "image_shape": list(images.shape[1:]),
            "bits_per_image": 8.0 * len(stream) / len(images),
            "compress_images_per_sec": len(images) / statistics.median(compress),
            "decompress_images_per_sec": len(images) / statistics.median(decompress),
            "roundtrip_exact": bool(np.array_equal(decoded, codec.reconstruct(images))),
            "repetitions": _REPETITIONS.value,
            "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
            "commit": _commit(),
            "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        }
    os.makedirs(os.path.dirname(_OUTPUT.value), exist_ok=True)
    with open(_OUTPUT.value, "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    app.run(main)
