"""`python experiments/train.py ...`: the same program as `aelab train ...` (its flags and
documentation are in aelab/cli/train.py; `--help` lists them)."""

from aelab.cli import train

if __name__ == "__main__":
    train.run()
