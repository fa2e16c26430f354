"""Values for every declared option, derived from the declarations themselves: the
property-based tests of config validation draw from these, so a new component's options
are covered the moment it registers them.

`declared_options()` walks the whole config schema and yields, for every option, the
config change that brings it into effect (the selector choice that puts its component
in the config) and the option itself.
"""

from __future__ import annotations

import dataclasses
import math
import string
from collections.abc import Iterator

from hypothesis import strategies as st

from aelab.core.options import OptionField
from aelab.core.schema import KeyedSection, Section
from aelab.evaluation import CONFIG_SCHEMA


@dataclasses.dataclass(frozen=True)
class DeclaredOption:
    """One option in the config.

    Attributes:
      path: dotted path of its section ("model", "data.corruption", "evals.likelihood").
      choices: {selector field: entry} within that section that make the option apply
        (e.g. {"name": "conv_vae"}); empty for shared options.
      field: the declaration.
    """

    path: str
    choices: dict
    field: OptionField

    @property
    def dotted(self) -> str:
        return f"{self.path}.{self.field.name}" if self.path else self.field.name

    def __repr__(self) -> str:
        where = ",".join(f"{k}={v}" for k, v in self.choices.items())
        return f"{self.dotted}[{where}]" if where else self.dotted


def _section_options(section, path: str) -> Iterator[DeclaredOption]:
    if isinstance(section, KeyedSection):
        for name in section.registry.names():
            fields = (
                *section.registry.options(name).option_fields(),
                *section.extra.option_fields(),
            )
            for field in fields:
                yield DeclaredOption(f"{path}.{name}", {}, field)
        return
    assert isinstance(section, Section)
    for field in section.shared_fields():
        yield DeclaredOption(path, {}, field)
    shared = {f.name for f in section.shared_fields()}
    for selector in section.selectors:
        for name in selector.registry.names():
            for field in selector.registry.options(name).option_fields():
                if field.name not in shared:
                    yield DeclaredOption(path, {selector.field: name}, field)
    for key, sub in section.subsections.items():
        yield from _section_options(sub, f"{path}.{key}")


def declared_options() -> list[DeclaredOption]:
    """Every option of the whole config schema, with what brings it into effect."""
    options = [DeclaredOption("", {}, f) for cls in CONFIG_SCHEMA.root for f in cls.option_fields()]
    for section in CONFIG_SCHEMA.sections:
        options.extend(_section_options(section, section.name))
    return options


def _scalar_value(kind: type, field: OptionField):
    spec = field.spec
    choices = spec.valid_choices()
    if choices:
        return choices[0]
    if kind is bool:
        return True
    if kind is str:  # The two patterns declared: 'host:port' and an eval metric.
        if spec.pattern is None:
            return "text"
        return "host:1234" if ":" in spec.pattern else "eval/loss"
    low = spec.minimum if spec.minimum is not None else spec.above
    high = spec.maximum if spec.maximum is not None else spec.below
    if kind is int:
        value = 1 if low is None else math.floor(low) + (spec.minimum is None)
        return value if high is None else min(value, int(high))
    if low is not None and high is not None:
        return (low + high) / 2
    if low is not None:
        return float(low) + 1.0
    return 0.5 if high is None else float(high) - 0.5


def example_value(field: OptionField):
    """A valid value of `field` (its default, or one built from its type and spec)."""
    if not field.required:
        return field.default
    kind = field.type
    if kind.base is tuple:  # As short as allowed (rules between fields compare lengths).
        return tuple([_scalar_value(kind.item, field)] * field.spec.min_length)
    if kind.base is dict:
        return {}
    return _scalar_value(kind.base, field)


def invalid_values(field: OptionField) -> st.SearchStrategy:
    """Values `field` must reject: the wrong type, out of its range, not one of its
    choices, not finite."""
    kind, spec = field.type, field.spec
    wrong_type = {
        bool: st.one_of(st.integers(), st.text(min_size=1, max_size=3)),
        int: st.one_of(st.text(min_size=1, max_size=3), st.floats(allow_nan=True), st.booleans()),
        float: st.one_of(
            st.text(min_size=1, max_size=3),
            st.just(float("nan")),
            st.just(float("inf")),
            st.booleans(),
        ),
        str: st.one_of(st.integers(), st.just(""), st.tuples(st.integers())),
        dict: st.one_of(st.integers(), st.text(min_size=1, max_size=3)),
    }
    if kind.base is tuple:
        item = kind.item
        bad_items = st.lists(wrong_type[item], min_size=1, max_size=3).map(tuple)
        strategies = [bad_items, st.text(min_size=1, max_size=3)]
        if item in (int, float) and spec.minimum is not None:
            strategies.append(st.just((spec.minimum - 1,)))
        if spec.min_length:
            strategies.append(st.just(()))
    else:
        strategies = [wrong_type[kind.base]]
        if kind.base in (int, float):
            if spec.minimum is not None:
                strategies.append(st.just(kind.base(spec.minimum - 1)))
            if spec.above is not None:
                strategies.append(st.just(kind.base(spec.above)))
            if spec.maximum is not None:
                strategies.append(st.just(kind.base(spec.maximum + 1)))
            if spec.below is not None:
                strategies.append(st.just(kind.base(spec.below)))
        choices = spec.valid_choices()
        if choices:
            strategies.append(
                st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=12).filter(
                    lambda s: s not in choices
                )
            )
    if not kind.optional:
        strategies.append(st.none())
    return st.one_of(*strategies)
