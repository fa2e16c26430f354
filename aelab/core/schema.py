"""The shape of a whole config, assembled from the components' declared options.

A config is a tree of sections (`config.data`, `config.model`, ...). A `Section` holds
the options of one or more shared `Options` classes (each owned by the module that reads
it), plus `Selector` fields whose value names a registry entry that brings its own
options (`config.model.name = "conv_vae"` brings the conv family's fields), plus nested
sections (`config.data.corruption`). A `KeyedSection` maps registry names to options
(`config.evals = {"likelihood": {...}}`). `ConfigSchema` is the root.

From a schema come:
  - `check(config)`: the validation walk, section -> registry entry -> options, with one
    line per problem naming the field, its value, what is valid and the fix;
  - `defaults(**choices)`: a complete ConfigDict for chosen entries (base_config);
  - `complete(config)`: a config with every declared field of its chosen entries filled
    in (what config.json records, and what resumes compare);
  - `rows()`: the tables of docs/options.md.

A field that the chosen entry does not declare is an error with a "did you mean" hint,
unless another entry of the same registry declares it: then it only has no effect for
this choice (a sweep over models may carry fields of both), and is a warning.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import ml_collections

from aelab.core.options import NoOptions, OptionField, Options, choice_problem
from aelab.core.registry import Registry


@dataclasses.dataclass
class Report:
    """What a walk found: problems (errors) and warnings, one line each."""

    problems: list[str] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)


def _is_mapping(value: Any) -> bool:
    return isinstance(value, (ml_collections.ConfigDict, Mapping))


def _keys(section: Any) -> list[str]:
    return list(section.keys())


@dataclasses.dataclass(frozen=True)
class Selector:
    """A field whose value names an entry of `registry`; the entry's options join the
    section.

    Attributes:
      field: the field's name in the section ("name", "schedule", "likelihood").
      registry: where the names are registered.
      choice: the keyword that picks it in `ConfigSchema.defaults` ("model", "schedule").
      default: the entry `defaults` picks when not told; None: the field is required.
      doc: one line for the docs.
      prefixes: {prefix: options} for open families of names ("tfds:" + any name).
    """

    field: str
    registry: Registry
    choice: str
    default: str | None
    doc: str
    prefixes: Mapping[str, type[Options]] = dataclasses.field(default_factory=dict)

    def value(self, section: Any) -> Any:
        """The entry a section names: its `field`, or the declared default when absent."""
        if section is None:
            return self.default
        return section.get(self.field, self.default) if _is_mapping(section) else self.default

    def options_of(self, name: Any) -> type[Options] | None:
        """The options class the value `name` brings, or None for an unknown name."""
        if not isinstance(name, str):
            return None
        for prefix, options in self.prefixes.items():
            if name.startswith(prefix) and len(name) > len(prefix):
                return options
        return self.registry.options(name) if name in self.registry else None

    def problem(self, name: Any) -> str:
        valid = self.registry.names()
        text = choice_problem(name, valid, self.registry.kind)
        extra = "".join(f", or '{prefix}<name>'" for prefix in self.prefixes)
        return text + extra

    def all_option_fields(self) -> dict[str, list[str]]:
        """{field name: [entries declaring it]} over every entry (and prefix family)."""
        owners: dict[str, list[str]] = {}
        classes = {name: self.registry.options(name) for name in self.registry.names()}
        classes.update({f"{p}<name>": options for p, options in self.prefixes.items()})
        for entry, options in classes.items():
            for name in options.option_names():
                owners.setdefault(name, []).append(entry)
        return owners


@dataclasses.dataclass(frozen=True)
class Parsed:
    """A checked section.

    Attributes:
      options: the instances of its option classes, by class.
      chosen: {selector field: chosen entry name}.
      subsections: nested sections' results, by name.
      entries: for a `KeyedSection`, {entry name: (its options, the extra options)}.
    """

    options: dict[type[Options], Options] = dataclasses.field(default_factory=dict)
    chosen: dict[str, str] = dataclasses.field(default_factory=dict)
    subsections: dict[str, Parsed] = dataclasses.field(default_factory=dict)
    entries: dict[str, tuple[Options, Options]] = dataclasses.field(default_factory=dict)

    def get(self, cls: type[Options]) -> Options:
        return self.options[cls]


@dataclasses.dataclass(frozen=True)
class Section:
    """A config section: shared option classes, selectors and nested sections.

    Attributes:
      name: the field under the parent ("data"; "corruption" under data).
      doc: one line for the docs.
      shared: option classes whose fields every config of this section has.
      selectors: fields that name registry entries bringing more options.
      subsections: nested sections, by field name.
    """

    name: str
    doc: str
    shared: tuple[type[Options], ...] = ()
    selectors: tuple[Selector, ...] = ()
    subsections: Mapping[str, Section] = dataclasses.field(default_factory=dict)

    def extended(self, *shared: type[Options]) -> Section:
        """This section with more shared option classes (owned by a higher layer)."""
        return dataclasses.replace(self, shared=(*self.shared, *shared))

    def shared_fields(self) -> list[OptionField]:
        return [f for cls in self.shared for f in cls.option_fields()]

    def chosen_classes(self, values: Any) -> dict[str, tuple[str, type[Options] | None]]:
        """{selector field: (chosen name, its options class or None if unknown)}."""
        chosen = {}
        for selector in self.selectors:
            name = values.get(selector.field, selector.default) if _is_mapping(values) else None
            chosen[selector.field] = (name, selector.options_of(name))
        return chosen

    def check(self, values: Any, path: str, report: Report) -> Parsed | None:
        """Checks `values` (the section's ConfigDict) at `path` ("data"); appends problems
        and warnings to `report`; returns the parsed options when there were none."""
        before = len(report.problems)
        if not _is_mapping(values):
            report.problems.append(
                f"config.{path}={values!r} is not valid: must be a ConfigDict of fields."
            )
            return None
        declared: set[str] = set()
        options: dict[type[Options], Options] = {}
        chosen_names: dict[str, str] = {}
        classes: list[type[Options]] = list(self.shared)
        for selector in self.selectors:
            declared.add(selector.field)
            if selector.field not in values:
                if selector.default is None:
                    report.problems.append(
                        f"config.{path}.{selector.field} is missing: {selector.doc}; "
                        f"{selector.problem('')}."
                    )
                    continue
                name = selector.default
            else:
                name = values[selector.field]
            cls = selector.options_of(name)
            if cls is None:
                report.problems.append(
                    f"config.{path}.{selector.field}={name!r} is not valid: "
                    f"{selector.problem(name)}."
                )
                continue
            chosen_names[selector.field] = name
            classes.append(cls)
        for cls in classes:
            declared.update(cls.option_names())
        declared.update(self.subsections)
        for key in _keys(values):
            if key not in declared:
                self._unknown(key, values, path, declared, chosen_names, report)
        for cls in classes:
            parsed = cls.collect(values, path=path, problems=report.problems)
            if parsed is not None:
                options[cls] = parsed
        subsections = {}
        for key, section in self.subsections.items():
            sub_values = values[key] if key in values else ml_collections.ConfigDict()
            parsed_sub = section.check(sub_values, f"{path}.{key}", report)
            if parsed_sub is not None:
                subsections[key] = parsed_sub
        if len(report.problems) > before:
            return None
        return Parsed(options=options, chosen=chosen_names, subsections=subsections)

    def _unknown(self, key, values, path, declared, chosen_names, report) -> None:
        elsewhere = {}
        for selector in self.selectors:
            for field, entries in selector.all_option_fields().items():
                elsewhere.setdefault(field, []).extend(
                    f"{selector.registry.kind} {entry!r}" for entry in entries
                )
        chosen = ", ".join(
            f"{selector.registry.kind} {chosen_names[selector.field]!r}"
            for selector in self.selectors
            if selector.field in chosen_names
        )
        close = difflib.get_close_matches(key, sorted(declared), n=1, cutoff=0.75)
        if key in elsewhere and not close:
            owners = ", ".join(elsewhere[key][:4]) + (" ..." if len(elsewhere[key]) > 4 else "")
            report.warnings.append(
                f"config.{path}.{key} has no effect with {chosen or 'this config'}: it is an "
                f"option of {owners}."
            )
            return
        hint = f"did you mean {close[0]!r}? " if close else ""
        for_what = f" for {chosen}" if chosen else ""
        report.problems.append(
            f"config.{path}.{key} is not a known field{for_what}: {hint}known fields here: "
            f"{', '.join(sorted(declared))}."
        )

    def defaults(self, choices: Mapping[str, str]) -> ml_collections.ConfigDict:
        """The section with every shared option, each selector set to its choice (or
        default) and that entry's options, and nested sections' defaults."""
        fields: dict[str, Any] = {}
        for cls in self.shared:
            fields.update(cls.config_defaults())
        for selector in self.selectors:
            name = choices.get(selector.choice, selector.default)
            if name is None:
                continue
            cls = selector.options_of(name)
            if cls is None:
                raise ValueError(selector.problem(name) + ".")
            fields[selector.field] = name
            fields.update(cls.config_defaults())
        section = ml_collections.ConfigDict(fields)
        for key, sub in self.subsections.items():
            section[key] = sub.defaults(choices)
        return section

    def complete(self, values: Any) -> Any:
        """`values` with the defaults of every declared field it lacks (a copy)."""
        if not _is_mapping(values):
            return values
        complete = ml_collections.ConfigDict(
            values.to_dict() if hasattr(values, "to_dict") else dict(values)
        )
        classes = list(self.shared)
        for selector in self.selectors:
            name = complete.get(selector.field, selector.default)
            cls = selector.options_of(name)
            if cls is not None:
                if selector.field not in complete:
                    complete[selector.field] = name
                classes.append(cls)
        for cls in classes:
            for key, value in cls.config_defaults().items():
                if key not in complete:
                    complete[key] = value
        for key, sub in self.subsections.items():
            complete[key] = sub.complete(complete.get(key, ml_collections.ConfigDict()))
        return complete

    def choices(self) -> list[str]:
        return [s.choice for s in self.selectors] + [
            c for sub in self.subsections.values() for c in sub.choices()
        ]


@dataclasses.dataclass(frozen=True)
class KeyedSection:
    """A section whose keys are entries of `registry` and values their options
    (`config.evals`), plus `extra` options every entry takes (`every`).

    Attributes:
      defaults_entries: {name: options} that `defaults` writes.
    """

    name: str
    doc: str
    registry: Registry
    extra: type[Options] = NoOptions
    default_entries: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)

    def check(self, values: Any, path: str, report: Report) -> Parsed | None:
        before = len(report.problems)
        if not _is_mapping(values):
            report.problems.append(
                f"config.{path}={values!r} is not valid: must be a ConfigDict of "
                f"{{{self.registry.kind}: options}}."
            )
            return None
        options = {}
        for key in _keys(values):
            entry = values[key]
            if key not in self.registry:
                report.problems.append(
                    f"config.{path}.{key} is not valid: "
                    f"{choice_problem(key, self.registry.names(), self.registry.kind)}."
                )
                continue
            if entry is None:
                entry = {}
            if not _is_mapping(entry):
                report.problems.append(
                    f"config.{path}.{key}={entry!r} is not valid: must be a dict of the "
                    f"{self.registry.kind}'s options."
                )
                continue
            cls = self.registry.options(key)
            known = (*cls.option_names(), *self.extra.option_names())
            for option in _keys(entry):
                if option not in known:
                    close = difflib.get_close_matches(option, known, n=1, cutoff=0.7)
                    hint = f"did you mean {close[0]!r}? " if close else ""
                    report.problems.append(
                        f"config.{path}.{key}.{option} is not an option of "
                        f"{self.registry.kind} {key!r}: {hint}its options: "
                        f"{', '.join(known)}."
                    )
            parsed = cls.collect(entry, path=f"{path}.{key}", problems=report.problems)
            extra = self.extra.collect(entry, path=f"{path}.{key}", problems=report.problems)
            if parsed is not None and extra is not None:
                options[key] = (parsed, extra)
        if len(report.problems) > before:
            return None
        return Parsed(entries=options)

    def defaults(self, choices: Mapping[str, str]) -> ml_collections.ConfigDict:
        del choices
        return ml_collections.ConfigDict(
            {name: dict(options) for name, options in self.default_entries.items()}
        )

    def complete(self, values: Any) -> Any:
        return values

    def choices(self) -> list[str]:
        return []


AnySection = Section | KeyedSection


@dataclasses.dataclass(frozen=True)
class ConfigSchema:
    """The root of a config: top-level options (`seed`) and sections.

    Attributes:
      root: option classes of the top-level fields.
      sections: the sections, by name.
      owned_elsewhere: top-level names this schema leaves to a schema of a higher layer
        (training's schema leaves `evals` to evaluation's).
    """

    root: tuple[type[Options], ...]
    sections: tuple[AnySection, ...]
    owned_elsewhere: tuple[str, ...] = ()

    def section(self, name: str) -> AnySection:
        return next(s for s in self.sections if s.name == name)

    def with_sections(self, *sections: AnySection) -> ConfigSchema:
        """This schema with `sections` added (or replacing those of the same name)."""
        names = {s.name for s in sections}
        kept = tuple(s for s in self.sections if s.name not in names)
        owned = tuple(n for n in self.owned_elsewhere if n not in names)
        return ConfigSchema(self.root, (*kept, *sections), owned)

    def known_top_level(self) -> list[str]:
        names = [n for cls in self.root for n in cls.option_names()]
        return names + [s.name for s in self.sections] + list(self.owned_elsewhere)

    def check(self, config: Any) -> tuple[Report, dict[str, Parsed]]:
        """The validation walk over `config`; returns (report, parsed sections)."""
        report = Report()
        if not _is_mapping(config):
            report.problems.append(f"The config is {type(config).__name__}, not a ConfigDict.")
            return report, {}
        known = self.known_top_level()
        for key in _keys(config):
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1, cutoff=0.7)
                hint = f"did you mean {close[0]!r}? " if close else ""
                report.problems.append(
                    f"config.{key} is not a known field: {hint}known fields here: "
                    f"{', '.join(sorted(known))}."
                )
        for cls in self.root:
            cls.collect(config, path="", problems=report.problems)
        report.problems[:] = [p.replace("config..", "config.") for p in report.problems]
        parsed = {}
        for section in self.sections:
            if section.name not in config:
                report.problems.append(
                    f"config.{section.name} is missing: start the config from "
                    "aelab.config.base_config()."
                )
                continue
            result = section.check(config[section.name], section.name, report)
            if result is not None:
                parsed[section.name] = result
        return report, parsed

    def defaults(self, **choices: str) -> ml_collections.ConfigDict:
        """A complete config for the chosen entries (keywords: each selector's `choice`,
        e.g. model="conv_vae", schedule="cosine"); the others get their defaults."""
        known = {c for s in self.sections for c in s.choices()}
        unknown = sorted(set(choices) - known)
        if unknown:
            raise TypeError(
                f"base_config() got unknown choice(s) {', '.join(unknown)}; valid: "
                f"{', '.join(sorted(known))}."
            )
        config = ml_collections.ConfigDict()
        for cls in self.root:
            for key, value in cls.config_defaults().items():
                config[key] = value
        for section in self.sections:
            config[section.name] = section.defaults(choices)
        return config

    def complete(self, config: Any) -> Any:
        """A copy of `config` with every declared field of its chosen entries."""
        complete = ml_collections.ConfigDict(config.to_dict())
        for cls in self.root:
            for key, value in cls.config_defaults().items():
                if key not in complete:
                    complete[key] = value
        for section in self.sections:
            if section.name in complete:
                complete[section.name] = section.complete(complete[section.name])
        return complete


def section_rows(section: AnySection, path: str) -> Iterable[tuple[str, str, Sequence]]:
    """(heading, what owns the options, their fields) for docs tables."""
    if isinstance(section, KeyedSection):
        for name in section.registry.names():
            cls = section.registry.options(name)
            yield (
                f"config.{path}.{name}",
                f"{section.registry.kind} {name!r}",
                (
                    *cls.option_fields(),
                    *section.extra.option_fields(),
                ),
            )
        return
    shared = section.shared_fields()
    if shared or section.selectors:
        yield f"config.{path}", "every config", shared
    for selector in section.selectors:
        for name in selector.registry.names():
            cls = selector.registry.options(name)
            fields = [f for f in cls.option_fields() if f.name not in {g.name for g in shared}]
            yield (
                f"config.{path} with {selector.field}={name!r}",
                f"{selector.registry.kind} {name!r}",
                fields,
            )
        for prefix, cls in selector.prefixes.items():
            yield (
                f"config.{path} with {selector.field}='{prefix}<name>'",
                f"{selector.registry.kind} '{prefix}<name>'",
                cls.option_fields(),
            )
    for key, sub in section.subsections.items():
        yield from section_rows(sub, f"{path}.{key}")
