r"""Writes docs/options.md: every config field, from the components' own declarations.

  python docs/make_options_table.py            # rewrites docs/options.md
  python docs/make_options_table.py --check    # exits 1 if docs/options.md is stale

Each component declares its options once, next to its code (`aelab.core.options`);
this page is generated from those declarations, like `base_config()` and the checks of
`validate_config()`, so it cannot drift from them. tests/docs/test_options_table.py
keeps it current.
"""

from __future__ import annotations

import pathlib
import sys

from aelab.config import CONFIG_SCHEMA
from aelab.core.options import REQUIRED, OptionField, bounds_phrase
from aelab.core.schema import KeyedSection, section_rows

OUTPUT = pathlib.Path(__file__).with_name("options.md")

HEADER = """# Config options

Every field a config can hold, generated from the declarations in the code
(`python docs/make_options_table.py`). `base_config(...)` fills in the shared fields and
the options of the components it is given (`base_config(data="mnist", model="conv_vae")`);
`validate_config` checks every field against these declarations before anything is
written or compiled, and names the field, the value, what is valid and the fix.

A field of a component that is not chosen (a conv field in a dense model's config) has no
effect and is reported as a warning; a field no component declares is an error with a
"did you mean" hint. To add a component with its own options, see
[adding a model](adding_a_model.md), [an objective](adding_an_objective.md),
[an evaluator](adding_an_evaluator.md) or [a data set](adding_a_data_set.md).
"""


def _constraint(field: OptionField) -> str:
    parts = []
    choices = field.spec.valid_choices()
    if choices:
        parts.append(", ".join(f"`{c}`" for c in choices))
    bounds = bounds_phrase(field.spec)
    if bounds:
        parts.append(bounds + (" (each)" if field.type.base is tuple else ""))
    if field.spec.min_length:
        parts.append(f"at least {field.spec.min_length} item(s)")
    if field.spec.pattern_doc:
        parts.append(field.spec.pattern_doc)
    return "; ".join(parts)


def _default(field: OptionField) -> str:
    if field.default is REQUIRED:
        return "required"
    return f"`{field.default!r}`"


def _table(fields) -> list[str]:
    lines = ["| field | type | default | allowed | meaning |", "|---|---|---|---|---|"]
    for field in fields:
        doc = field.spec.doc.replace("|", "\\|")
        kind = field.type.describe().replace("|", "\\|")
        lines.append(
            f"| `{field.name}` | {kind} | {_default(field)} | {_constraint(field)} | {doc} |"
        )
    return lines


def render() -> str:
    lines = [HEADER]
    root = [f for cls in CONFIG_SCHEMA.root for f in cls.option_fields()]
    lines += ["## Top level", "", *_table(root), ""]
    for section in CONFIG_SCHEMA.sections:
        lines += [f"## `config.{section.name}`: {section.doc}", ""]
        if not isinstance(section, KeyedSection):
            for selector in section.selectors:
                prefixes = "".join(f", or `{p}<name>`" for p in selector.prefixes)
                lines.append(
                    f"- `{selector.field}`: {selector.doc}; one of "
                    f"{', '.join(f'`{n}`' for n in selector.registry.names())}{prefixes} "
                    f"(default `{selector.default}`)."
                )
            for key, sub in section.subsections.items():
                lines.append(f"- `{key}`: a section of its own: {sub.doc}.")
            lines.append("")
        for heading, owner, fields in section_rows(section, section.name):
            if not fields:
                lines += [f"### {heading}", "", f"No options of its own ({owner}).", ""]
                continue
            lines += [f"### {heading}", "", *_table(fields), ""]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if OUTPUT.read_text() != text:
            print(f"{OUTPUT} is stale: run python docs/make_options_table.py")
            return 1
        return 0
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
