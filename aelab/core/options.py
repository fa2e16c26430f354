"""Options: typed settings declared once, next to the code that reads them.

A component (a model family, an objective, an optimizer, a schedule, a data source, a
corruption, an evaluator, or a shared part of a config section) declares its options as
a frozen dataclass that subclasses `Options`, each field made by `option(...)`:

    @options_class
    class DenseOptions(ModelOptions):
        hidden_dims: tuple[int, ...] = option((512, 256), "hidden sizes", minimum=1)
        activation: str = option("relu", "between layers", choices=ACTIVATIONS,
                                 kind="activation")

That declaration is the only place the option's type, default, range and meaning are
written. From it come the defaults `aelab.config.base_config()` writes, the checks
`aelab.config.validate_config()` makes, the tables of docs/options.md and the
property-based tests' strategies; and the builder receives the typed instance
(`DenseOptions.from_section(config.model)`), not the ConfigDict.

Supported field types: bool, int, float, str, dict (free-form, checked by its owner),
tuple[T, ...] of those scalars, and `X | None` of any of them. Ranges (`minimum`,
`maximum`, `above`, `below`) apply to numbers and to each item of a tuple.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import numbers
import re
import types
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

from ml_collections.config_dict import placeholder

from aelab.core.errors import ConfigError

_METADATA_KEY = "aelab_option"
OptionsT = TypeVar("OptionsT", bound="Options")


class _Required:
    """The default of an option that has none: the config must set it."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


@dataclasses.dataclass(frozen=True)
class OptionSpec:
    """What an option allows, besides its type.

    Attributes:
      doc: one line: what the option means.
      choices: the valid values (strings), or a function returning them (a registry's
        names, read when checked); None: any value of the type.
      kind: what the choices are ("activation"), for messages: "Unknown activation ...".
      minimum, maximum: inclusive bounds of a number (each item of a tuple).
      above, below: exclusive bounds.
      min_length: the fewest items of a tuple.
      pattern, pattern_doc: a regular expression a string must match in full, and the
        phrase that describes it ("a 'host:port' string").
    """

    doc: str
    choices: Sequence[str] | Callable[[], Sequence[str]] | None = None
    kind: str = ""
    minimum: float | None = None
    maximum: float | None = None
    above: float | None = None
    below: float | None = None
    min_length: int = 0
    pattern: str | None = None
    pattern_doc: str | None = None

    def valid_choices(self) -> list[str] | None:
        if self.choices is None:
            return None
        return list(self.choices() if callable(self.choices) else self.choices)


def option(default: Any = REQUIRED, doc: str = "", **spec: Any) -> Any:
    """Declares one option: a dataclass field with a default (or REQUIRED) and an
    `OptionSpec` (see its attributes for `spec`). Mutable defaults are refused: use a
    tuple."""
    if isinstance(default, (list, dict, set)):
        raise TypeError(f"Option default {default!r} is mutable; use a tuple or None.")
    if not doc:
        raise TypeError("Every option needs a one-line doc.")
    metadata = {_METADATA_KEY: OptionSpec(doc, **spec)}
    if default is REQUIRED:
        return dataclasses.field(metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def options_class(cls: type[OptionsT]) -> type[OptionsT]:
    """Makes `cls` a frozen, keyword-only dataclass of options (use on every subclass of
    `Options`)."""
    return dataclasses.dataclass(frozen=True, kw_only=True)(cls)


# ------------------------------------------------------------------ field types


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


_SCALAR_NAMES = {bool: "True or False", int: "an integer", float: "a finite number", str: ""}
_PLURAL_NAMES = {bool: "booleans", int: "integers", float: "finite numbers", str: "strings"}


@dataclasses.dataclass(frozen=True)
class FieldType:
    """A declared field type: a scalar (bool, int, float, str), dict, or a tuple of
    scalars; optionally None as well."""

    base: type  # bool, int, float, str, dict or tuple
    item: type | None = None  # the scalar type of a tuple's items
    optional: bool = False

    @classmethod
    def from_annotation(cls, annotation: Any, where: str) -> FieldType:
        optional = False
        origin = typing.get_origin(annotation)
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                raise TypeError(f"{where}: only `X | None` unions are supported.")
            optional, annotation = True, args[0]
            origin = typing.get_origin(annotation)
        if annotation in (bool, int, float, str, dict):
            return cls(annotation, None, optional)
        if origin is tuple:
            args = typing.get_args(annotation)
            if len(args) == 2 and args[1] is Ellipsis and args[0] in (bool, int, float, str):
                return cls(tuple, args[0], optional)
        if origin is dict:
            return cls(dict, None, optional)
        raise TypeError(f"{where}: unsupported option type {annotation!r}.")

    def describe(self) -> str:
        """The type as docs show it: "int", "tuple[int, ...] | None"."""
        if self.base is tuple:
            text = f"tuple[{self.item.__name__}, ...]"
        else:
            text = self.base.__name__
        return f"{text} | None" if self.optional else text


def bounds_phrase(spec: OptionSpec) -> str:
    """The bounds of `spec` in words: ">= 0 and < 1" ("" without bounds)."""

    def number(value: float) -> str:
        return str(value) if isinstance(value, int) else f"{value:g}"

    parts = []
    if spec.minimum is not None:
        parts.append(f">= {number(spec.minimum)}")
    if spec.above is not None:
        parts.append(f"> {number(spec.above)}")
    if spec.maximum is not None:
        parts.append(f"<= {number(spec.maximum)}")
    if spec.below is not None:
        parts.append(f"< {number(spec.below)}")
    return " and ".join(parts)


def _scalar_ok(value: Any, kind: type, spec: OptionSpec) -> tuple[bool, Any]:
    """(valid, converted) for one scalar against its type and bounds."""
    if kind is bool:
        return isinstance(value, bool), value
    if kind is int:
        if not _is_int(value):
            return False, value
        value = int(value)
    elif kind is float:
        if not _is_number(value) or not math.isfinite(float(value)):
            return False, value
        value = float(value)
    elif kind is str:
        if not isinstance(value, str) or not value:
            return False, value
        if spec.pattern is not None and not re.fullmatch(spec.pattern, value):
            return False, value
        return True, value
    if spec.minimum is not None and value < spec.minimum:
        return False, value
    if spec.maximum is not None and value > spec.maximum:
        return False, value
    if spec.above is not None and value <= spec.above:
        return False, value
    if spec.below is not None and value >= spec.below:
        return False, value
    return True, value


@dataclasses.dataclass(frozen=True)
class OptionField:
    """One declared option: its name, type, default (or REQUIRED) and spec."""

    name: str
    type: FieldType
    default: Any
    spec: OptionSpec
    owner: type

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def expectation(self) -> str:
        """What a valid value is, as the end of "must be ...": "an integer >= 1"."""
        spec, kind = self.spec, self.type
        bounds = bounds_phrase(spec)
        if kind.base is tuple:
            text = f"a tuple of {_PLURAL_NAMES[kind.item]}"
            text += f" {bounds}" if bounds else ""
            choices = spec.valid_choices()
            if choices:
                text += f", each one of {', '.join(map(repr, choices))}"
            if spec.min_length:
                text += f" with at least {spec.min_length} item" + (
                    "s" if spec.min_length > 1 else ""
                )
        elif kind.base is dict:
            text = "a dict"
        elif kind.base is str:
            text = spec.pattern_doc or "a non-empty string"
        else:
            text = _SCALAR_NAMES[kind.base] + (f" {bounds}" if bounds else "")
        return f"None or {text}" if kind.optional else text

    def convert(self, value: Any) -> tuple[str | None, Any]:
        """(None, the value as the declared type) or (why it is not valid, value)."""
        kind, spec = self.type, self.spec
        if value is None:
            return (None, None) if kind.optional else (f"must be {self.expectation()}", value)
        if kind.base is dict:
            if hasattr(value, "to_dict"):
                value = value.to_dict()
            if not isinstance(value, Mapping):
                return f"must be {self.expectation()}", value
            return None, dict(value)
        if kind.base is tuple:
            if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
                return f"must be {self.expectation()}", value
            items = []
            for item in value:
                ok, converted = _scalar_ok(item, kind.item, spec)
                if not ok:
                    return f"must be {self.expectation()}", value
                items.append(converted)
            if len(items) < spec.min_length:
                return f"must be {self.expectation()}", value
            value = tuple(items)
            valid = spec.valid_choices()
            if valid is not None and any(item not in valid for item in value):
                return f"must hold only {', '.join(map(repr, valid))}", value
            return None, value
        ok, converted = _scalar_ok(value, kind.base, spec)
        if not ok:
            return f"must be {self.expectation()}", value
        valid = spec.valid_choices()
        if valid is not None and converted not in valid:
            return choice_problem(converted, valid, spec.kind), value
        return None, converted

    def config_default(self) -> Any:
        """The default as a ConfigDict field: a typed placeholder for None, so that a
        command-line override can set it."""
        if self.default is None:
            base = self.type.base
            return placeholder(base if base is not dict else object)
        return self.default


def choice_problem(value: Any, valid: Sequence[str], kind: str = "") -> str:
    """ "Unknown <kind> 'x'; did you mean 'y'? Valid <kind> names: a, b"."""
    close = difflib.get_close_matches(str(value), list(valid), n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    if kind:
        return f"Unknown {kind} {value!r}; {hint}Valid {kind} names: {', '.join(valid)}"
    return f"{hint}must be one of {', '.join(map(repr, valid))}".replace("? must", "? It must")


def _read(section: Any, name: str) -> tuple[bool, Any]:
    """(present, value) of `name` in a ConfigDict, a dict, or None."""
    if section is None:
        return False, None
    try:
        present = name in section
    except TypeError:
        return False, None
    return present, (section[name] if present else None)


class Options:
    """Base of every options dataclass (decorate subclasses with `options_class`).

    A subclass may override `check` for rules between fields.
    """

    # Set by `options_class` users who need it; the name shown in messages and docs.
    component: ClassVar[str] = ""

    @classmethod
    @functools.cache
    def option_fields(cls) -> tuple[OptionField, ...]:
        """The declared options, in declaration order (inherited ones first)."""
        hints = typing.get_type_hints(cls)
        fields = []
        for f in dataclasses.fields(cls):
            spec = f.metadata.get(_METADATA_KEY)
            if spec is None:
                raise TypeError(f"{cls.__name__}.{f.name} is not declared with option().")
            default = REQUIRED if f.default is dataclasses.MISSING else f.default
            field_type = FieldType.from_annotation(hints[f.name], f"{cls.__name__}.{f.name}")
            owner = next(
                base
                for base in reversed(cls.__mro__)
                if dataclasses.is_dataclass(base)
                and f.name in getattr(base, "__dataclass_fields__", {})
            )
            fields.append(OptionField(f.name, field_type, default, spec, owner))
        return tuple(fields)

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in cls.option_fields())

    @classmethod
    def collect(
        cls: type[OptionsT], section: Any, *, path: str, problems: list[str], strict: bool = False
    ) -> OptionsT | None:
        """The options read from `section` (ConfigDict, dict or None; fields it does not
        declare are ignored unless `strict`), with defaults for absent ones. Problems are
        appended to `problems` as lines naming `config.<path>.<field>`; returns None when
        there are any."""
        if isinstance(section, cls):
            return section
        before = len(problems)
        values = {}
        for field in cls.option_fields():
            present, value = _read(section, field.name)
            if field.required and value is None and not field.type.optional:
                present = False  # A required option left at None is missing, not invalid.
            if not present:
                if field.required:
                    problems.append(
                        f"config.{path}.{field.name} is missing: set it to "
                        f"{field.expectation()} ({field.spec.doc})."
                    )
                    continue
                value = field.default
                values[field.name] = value
                continue
            why, converted = field.convert(value)
            if why is not None:
                problems.append(f"config.{path}.{field.name}={value!r} is not valid: {why}.")
                continue
            values[field.name] = converted
        if strict and section is not None:
            known = cls.option_names()
            for key in _keys(section):
                if key not in known:
                    problems.append(
                        unknown_field_problem(f"{path}.{key}", known, cls.describe_owner())
                    )
        if len(problems) > before:
            return None
        instance = cls(**values)
        for name, why in instance.check():
            value = getattr(instance, name, None)
            problems.append(f"config.{path}.{name}={value!r} is not valid: {why}.")
        return None if len(problems) > before else instance

    @classmethod
    def from_section(
        cls: type[OptionsT], section: Any, *, path: str = "", strict: bool = False
    ) -> OptionsT:
        """Like `collect`, raising a `ConfigError` listing the problems."""
        problems: list[str] = []
        instance = cls.collect(
            section, path=path or cls.describe_owner(), problems=problems, strict=strict
        )
        if problems:
            raise ConfigError(problems)
        return instance

    @classmethod
    def describe_owner(cls) -> str:
        return cls.component or cls.__name__

    @classmethod
    def config_defaults(cls) -> dict[str, Any]:
        """{name: default} of the options that have one, as ConfigDict fields."""
        return {f.name: f.config_default() for f in cls.option_fields() if not f.required}

    def check(self) -> Iterator[tuple[str, str]]:
        """Rules between fields: yields (field name, why its value is not valid)."""
        return iter(())

    def as_dict(self) -> dict[str, Any]:
        """{name: value} of every option."""
        return {name: getattr(self, name) for name in self.option_names()}


def _keys(section: Any) -> list[str]:
    return list(section.keys()) if hasattr(section, "keys") else []


def unknown_field_problem(path: str, known: Sequence[str], where: str = "") -> str:
    """ "config.<path> is not a known field[ of <where>]: did you mean ...? known fields
    here: ..."."""
    name = path.rsplit(".", 1)[-1]
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.7)
    hint = f"did you mean {close[0]!r}? " if close else ""
    place = f" of {where}" if where else ""
    return (
        f"config.{path} is not a known field{place}: {hint}known fields here: "
        f"{', '.join(sorted(known))}."
    )


@options_class
class NoOptions(Options):
    """A component without options."""
