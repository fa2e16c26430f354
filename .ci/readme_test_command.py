"""Prints the test command of README.md's set-up block (its second command).

CI runs exactly this line, so README and CI cannot drift apart.
"""

import pathlib
import re
import sys

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def setup_commands(text: str) -> list[str]:
    """The commands of the fenced block that follows the "## Set up" heading."""
    match = re.search(r"^## Set up\n.*?```(?:bash|sh)?\n(.*?)```", text, re.S | re.M)
    if not match:
        raise SystemExit("README.md has no fenced block under '## Set up'.")
    return [line for line in match.group(1).splitlines() if line.strip()]


if __name__ == "__main__":
    commands = setup_commands(README.read_text())
    if len(commands) != 2:
        sys.exit(f"README's set-up block must hold exactly two commands, not {len(commands)}.")
    print(commands[1])
