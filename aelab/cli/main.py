"""The `aelab` console script: `aelab <command> [flags]`, one program per command.

    aelab train --config=configs/quickstart.py --workdir=runs/quickstart
    aelab evaluate --workdir=runs/quickstart
    aelab sweep --sweep=configs/sweeps/quickstart.py --sweep_dir=runs/sweep_qs
    aelab export runs/quickstart exported/quickstart
    aelab codec compress --workdir=RUN --input=PATH --output=FILE

`aelab <command> --help` lists a command's flags.
"""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "train": ("aelab.cli.train", "train a model (or resume it)"),
    "evaluate": ("aelab.cli.evaluate", "run evaluators on a trained run"),
    "sweep": ("aelab.cli.sweep", "run or report a hyperparameter sweep"),
    "export": ("aelab.cli.export", "write a portable model folder (safetensors, model card)"),
    "codec": ("aelab.cli.codec", "compress / decompress images with a learned codec"),
}


def usage() -> str:
    lines = ["usage: aelab <command> [flags]   (aelab <command> --help for its flags)", ""]
    lines += [f"  {name:<9} {text}" for name, (_, text) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Runs `aelab <command> ...` with `argv` (default: `sys.argv`)."""
    argv = list(sys.argv if argv is None else argv)
    if len(argv) < 2 or argv[1] in ("-h", "--help", "help"):
        print(usage())
        sys.exit(0 if len(argv) >= 2 else 2)
    command = argv[1]
    if command not in COMMANDS:
        print(f"aelab: unknown command {command!r}.\n{usage()}", file=sys.stderr)
        sys.exit(2)
    # Only the chosen program is imported: each defines its own absl flags.
    program = importlib.import_module(COMMANDS[command][0])
    program.run([f"aelab {command}", *argv[2:]])


if __name__ == "__main__":
    main()
