"""`python experiments/sweep.py ...`: the same program as `aelab sweep ...` (its flags and
documentation are in aelab/cli/sweep.py; `--help` lists them)."""

from aelab.cli import sweep

if __name__ == "__main__":
    sweep.run()
