"""docs/options.md is generated from the declared options and stays current."""

from aelab.config import CONFIG_SCHEMA
from tests.conftest import REPO, load_module


def _generator():
    return load_module(REPO / "docs" / "make_options_table.py")


def test_options_page_is_current():
    module = _generator()
    assert module.OUTPUT.read_text() == module.render(), (
        "docs/options.md is stale: run python docs/make_options_table.py"
    )


def test_options_page_lists_every_component_and_field():
    text = (REPO / "docs" / "options.md").read_text()
    for section in CONFIG_SCHEMA.sections:
        assert f"## `config.{section.name}`" in text
        for selector in getattr(section, "selectors", ()):
            for name in selector.registry.names():
                assert f"with {selector.field}='{name}'" in text, name
    for name in (
        "latent_dim",
        "hidden_dims",
        "beta",
        "warmup_steps",
        "compute_dtype",
        "device_resident",
        "num_samples",
        "every",
        "imports",
        "std",
    ):
        assert f"| `{name}` |" in text, name
