r"""A trained learned codec (configs/mnist_codec.py) as a command-line codec: `aelab codec`
(or `python experiments/codec.py`, the same program).

  python experiments/codec.py compress --workdir=RUN --input=PATH --output=FILE
  python experiments/codec.py decompress --workdir=RUN --input=FILE --output=PATH
  python experiments/codec.py report --sweep_dir=SWEEP --output=DIR   (or --workdir=RUN
      once per lambda)

compress: a PNG, a folder of PNGs (file-name order) or an .npz of images -> one file.
decompress: that file -> a folder of numbered PNGs, a .png (one image) or an .npz. The
decoded images are exactly the model's quantized reconstructions; the file size is the
rate. A file made by another model, a truncated or corrupted file, or one of a newer
format gets one line saying so, and nothing is written.
report: the rate-distortion curves of a lambda ladder (its runs' test-split
`rate_distortion` evaluations, made now where missing) against JPEG, WebP, JPEG XL and
AVIF: DIR/rd_curves.png, rd_report.md and rd_report.json with the BD-rates.

--step picks the checkpoint (best, the default, chosen on validation; latest; or a
number); compress and decompress must use the same one.
"""

import os
import sys
import time

from absl import app, flags, logging

from aelab.codec import CodecFileError
from aelab.codec.image_files import read_images, write_images
from aelab.data import DataError
from aelab.evaluation import load_run
from aelab.evaluation.rate_distortion import codec_for_run
from aelab.evaluation.rd_report import write_report

COMMANDS = ("compress", "decompress", "report")

_WORKDIR = flags.DEFINE_multi_string(
    "workdir", None, "Work directory of a trained codec run (report: one per lambda)."
)
_INPUT = flags.DEFINE_string("input", None, "compress: images; decompress: a compressed file.")
_OUTPUT = flags.DEFINE_string(
    "output", None, "compress: the file; decompress: images; report: a folder."
)
_SWEEP_DIR = flags.DEFINE_string(
    "sweep_dir",
    None,
    "report: every trial of this sweep (its trials/trial_*), instead of --workdir.",
)
_STEP = flags.DEFINE_string("step", "best", "Checkpoint: best, latest or a step number.")
_FORCE = flags.DEFINE_bool("force", False, "Overwrite an existing --output.")


def _one_workdir() -> str:
    if not _WORKDIR.value or len(_WORKDIR.value) != 1:
        raise ValueError("compress and decompress take one --workdir (the run that codes).")
    return _WORKDIR.value[0]


def _codec():
    step = _STEP.value
    run = load_run(_one_workdir(), int(step) if step.isdigit() else step)
    return codec_for_run(run)


def _check_output(path: str) -> None:
    if os.path.exists(path) and not _FORCE.value and not os.path.isdir(path):
        raise ValueError(f"{path} exists; choose another --output or pass --force.")


def compress() -> None:
    images = read_images(_INPUT.value)
    _check_output(_OUTPUT.value)
    codec = _codec()
    start = time.perf_counter()
    data = codec.compress(images)
    seconds = time.perf_counter() - start
    temporary = f"{_OUTPUT.value}.tmp-{os.getpid()}"
    with open(temporary, "wb") as f:
        f.write(data)
    os.replace(temporary, _OUTPUT.value)
    logging.info(
        "%d images %s -> %s: %d bytes, %.1f bits per image (%.4f bpp), %.1f images/s.",
        len(images),
        "x".join(map(str, images.shape[1:])),
        _OUTPUT.value,
        len(data),
        8.0 * len(data) / len(images),
        8.0 * len(data) / (len(images) * images.shape[1] * images.shape[2]),
        len(images) / seconds,
    )


def decompress() -> None:
    if not os.path.isfile(_INPUT.value):
        raise ValueError(f"The compressed file {_INPUT.value} does not exist.")
    with open(_INPUT.value, "rb") as f:
        data = f.read()
    _check_output(_OUTPUT.value)
    codec = _codec()
    start = time.perf_counter()
    images = codec.decompress(data, name=_INPUT.value)
    seconds = time.perf_counter() - start
    written = write_images(_OUTPUT.value, images)
    logging.info(
        "%s -> %d images in %s (%d files), %.1f images/s.",
        _INPUT.value,
        len(images),
        _OUTPUT.value,
        len(written),
        len(images) / seconds,
    )


def _ladder_workdirs() -> list[str]:
    workdirs = list(_WORKDIR.value or [])
    if _SWEEP_DIR.value:
        trials = os.path.join(_SWEEP_DIR.value, "trials")
        if not os.path.isdir(trials):
            raise ValueError(f"{_SWEEP_DIR.value} has no trials/ folder: is it a sweep directory?")
        workdirs += sorted(
            os.path.join(trials, name)
            for name in os.listdir(trials)
            if os.path.exists(os.path.join(trials, name, "run_info.json"))
        )
    if not workdirs:
        raise ValueError("report needs the ladder's runs: --sweep_dir, or --workdir per lambda.")
    return workdirs


def report() -> None:
    result = write_report(
        _ladder_workdirs(), _OUTPUT.value, command=" ".join(["python", *sys.argv])
    )
    for counting, row in result["bd_rate"].items():
        logging.info(
            "BD-rate (%s): %s",
            counting,
            ", ".join(f"{c} {v:+.1f}%" for c, v in row.items() if not c.endswith("_note")),
        )
    logging.info("Wrote %s/rd_report.md, rd_report.json and rd_curves.png.", _OUTPUT.value)


def main(argv: list[str]) -> None:
    if len(argv) != 2 or argv[1] not in COMMANDS:
        raise app.UsageError(f"Give one command: {', '.join(COMMANDS)}.")
    command = argv[1]
    needed = ["output"] + (["input"] if command != "report" else [])
    missing = [f"--{name}" for name in needed if not getattr(flags.FLAGS, name)]
    if not _WORKDIR.value and not (command == "report" and _SWEEP_DIR.value):
        missing.insert(0, "--workdir")
    if missing:
        raise app.UsageError(
            f"{command} needs --workdir and --{', --'.join(needed)}: missing {', '.join(missing)}."
        )
    try:
        {"compress": compress, "decompress": decompress, "report": report}[command]()
    except (CodecFileError, FileNotFoundError, ValueError, DataError) as e:
        logging.error("%s", e)
        sys.exit(1)


def run(argv: list[str] | None = None) -> None:
    """Runs the program with the command line `argv` (default: `sys.argv`)."""
    app.run(main, argv=argv)
