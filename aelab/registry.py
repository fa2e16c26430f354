"""A named registry: one per kind of thing (models, objectives, data sets, evaluators)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class UnknownNameError(ValueError, KeyError):
    """Raised for a name that is not registered; the message lists the valid names."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message.
        return str(self.args[0]) if self.args else ""


class Registry(Generic[T]):
    """Maps names to builders of one kind of thing.

    Example:
      MODELS = Registry("model")

      @MODELS.register("dense_vae")
      def build_dense_vae(config, input_shape, rngs): ...

      MODELS.get("dense_vae")  # -> build_dense_vae
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator that registers `fn` under `name`; a name can be registered once."""

        def decorator(fn: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is already registered.")
            self._entries[name] = fn
            return fn

        return decorator

    def get(self, name: str) -> T:
        """Returns the entry for `name`, or raises an error that lists the valid names."""
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownNameError(
                f"Unknown {self.kind} {name!r}. Valid {self.kind} names: "
                f"{', '.join(sorted(self._entries))}."
            ) from None

    def names(self) -> list[str]:
        """All registered names, sorted."""
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)
