"""`python experiments/codec.py ...`: the same program as `aelab codec ...` (its flags and
documentation are in aelab/cli/codec.py; `--help` lists them)."""

from aelab.cli import codec

if __name__ == "__main__":
    codec.run()
