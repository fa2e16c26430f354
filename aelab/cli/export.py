r"""Exports a trained run as a portable model folder: `aelab export WORKDIR OUT`.

  aelab export runs/quickstart exported/quickstart              # the best checkpoint
  aelab export runs/quickstart exported/quickstart --step=latest --overwrite
  aelab export runs/quickstart exported/quickstart --push_to_hub=owner/quickstart-vae

OUT gets config.json, data_info.json, params.safetensors (weights and model state, no
optimizer state) and a README.md model card with the run's measured results;
`aelab.load(OUT)` needs nothing else. --push_to_hub uploads OUT to the Hugging Face Hub
(`pip install 'aelab[hub]'`; the token from `huggingface-cli login` or $HF_TOKEN), after
which `aelab.load("hf://owner/quickstart-vae")` loads it anywhere.

Exit status: 0 when written (and pushed); 1 with a one-line error for a missing or
untrained work directory, an unknown step, an existing OUT without --overwrite, or a
failed upload.
"""

import sys

from absl import app, flags, logging

from aelab.data import DataError
from aelab.evaluation import export, push_to_hub

_STEP = flags.DEFINE_string("step", "best", "Checkpoint: best, latest or a step number.")
_OVERWRITE = flags.DEFINE_bool("overwrite", False, "Replace OUT when it exists.")
_PUSH = flags.DEFINE_string(
    "push_to_hub", None, "Also upload OUT to this Hugging Face Hub repository (owner/name)."
)
_PRIVATE = flags.DEFINE_bool("private", False, "With --push_to_hub: create a private repo.")


def main(argv: list[str]) -> None:
    if len(argv) != 3:
        raise app.UsageError("Give the work directory and the output folder: WORKDIR OUT.")
    workdir, out = argv[1], argv[2]
    step = _STEP.value
    try:
        written = export(
            workdir, out, int(step) if step.isdigit() else step, overwrite=_OVERWRITE.value
        )
        logging.info("Exported %s to %s.", workdir, written)
        if _PUSH.value:
            address = push_to_hub(written, _PUSH.value, private=_PRIVATE.value)
            logging.info("Pushed to %s.", address)
    except FileExistsError as e:
        logging.error("%s (On the command line: --overwrite.)", e)
        sys.exit(1)
    except (FileNotFoundError, ValueError, DataError, ImportError) as e:
        logging.error("%s", e)
        sys.exit(1)


def run(argv: list[str] | None = None) -> None:
    """Runs the program with the command line `argv` (default: `sys.argv`)."""
    app.run(main, argv=argv)
