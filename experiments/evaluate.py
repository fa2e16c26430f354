"""`python experiments/evaluate.py ...`: the same program as `aelab evaluate ...` (its flags and
documentation are in aelab/cli/evaluate.py; `--help` lists them)."""

from aelab.cli import evaluate

if __name__ == "__main__":
    evaluate.run()
