"""docs/python_api.md works as written: its Python blocks, in order, in a fresh process
in a temporary folder."""

import os
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO

PAGE = REPO / "docs" / "python_api.md"


def test_the_page_names_every_top_level_function():
    import aelab

    text = PAGE.read_text()
    for name in ("load_config", "train", "evaluate", "read_metrics", "export", "load"):
        assert f"aelab.{name}(" in text
        assert callable(getattr(aelab, name))


@pytest.mark.slow
def test_the_pages_code_runs(tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.DOTALL)
    assert len(blocks) >= 2
    (tmp_path / "page.py").write_text("\n".join(blocks))
    flags = re.sub(
        r"--xla_force_host_platform_device_count=\d+", "", os.environ.get("XLA_FLAGS", "")
    )
    env = dict(os.environ, PYTHONPATH=str(REPO), XLA_FLAGS=flags.strip())
    result = subprocess.run(
        [sys.executable, "page.py"], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "runs" / "api_quickstart" / "config.json").is_file()
    assert (tmp_path / "runs" / "my_arrays" / "config.json").is_file()
