"""A named registry: one per kind of thing (models, objectives, data sets, evaluators).

Each entry may declare its options (an `aelab.core.options.Options` subclass): the
fields a config section holds for it, beside the entry's name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from aelab.core.options import NoOptions, Options, choice_problem

T = TypeVar("T")


class UnknownNameError(ValueError, KeyError):
    """Raised for a name that is not registered; the message lists the valid names."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message.
        return str(self.args[0]) if self.args else ""


class Registry(Generic[T]):
    """Maps names to builders of one kind of thing, each with its declared options.

    Example:
      MODELS = Registry("model")

      @MODELS.register("dense_vae", options=DenseOptions)
      def build_dense_vae(options, input_shape, output_shape, rngs): ...

      MODELS.get("dense_vae")          # -> build_dense_vae
      MODELS.options("dense_vae")      # -> DenseOptions
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._options: dict[str, type[Options]] = {}

    def register(self, name: str, *, options: type[Options] = NoOptions) -> Callable[[T], T]:
        """Decorator that registers `fn` under `name` with its `options` class; a name can
        be registered once."""

        def decorator(fn: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is already registered.")
            self._entries[name] = fn
            self._options[name] = options
            return fn

        return decorator

    def _check(self, name: str) -> None:
        if name not in self._entries:
            raise UnknownNameError(choice_problem(name, self.names(), self.kind) + ".")

    def get(self, name: str) -> T:
        """Returns the entry for `name`, or raises an error that lists the valid names."""
        self._check(name)
        return self._entries[name]

    def options(self, name: str) -> type[Options]:
        """The options class of entry `name` (`NoOptions` when it declares none)."""
        self._check(name)
        return self._options[name]

    def names(self) -> list[str]:
        """All registered names, sorted."""
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)
