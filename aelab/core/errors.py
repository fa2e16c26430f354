"""The error a bad config raises: one line per problem, each naming the field."""

from __future__ import annotations

from collections.abc import Sequence


class ConfigError(ValueError):
    """A config field is unknown, mistyped, out of range or inconsistent with the others,
    or the config file itself is missing or broken.

    Attributes:
      problems: one line per problem, each naming the field (`config.<section>.<field>`),
        its value, what is valid and how to fix it.
    """

    def __init__(self, problems: Sequence[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        if len(self.problems) == 1:
            super().__init__(self.problems[0])
        else:
            lines = "\n  ".join(self.problems)
            super().__init__(f"Invalid config ({len(self.problems)} problems):\n  {lines}")
