"""One error root for everything a user can get wrong; the CLI maps these to exit codes."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass


class MonitorError(Exception):
    """Base of every error monitor reports to a person; the message says what to fix."""

    exit_code = 1


class UsageError(MonitorError):
    """Bad input from the command line or a file named on it."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in an input file, located as precisely as the file allows."""

    path: str
    line: int | None
    message: str
    entry: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.path + (f":{self.line}" if self.line else "")
        parts = [where]
        if self.entry:
            parts.append(f"entry '{self.entry}'")
        if self.field:
            parts.append(f"field '{self.field}'")
        return ": ".join(parts) + f": {self.message}"


def did_you_mean(key: object, allowed: Sequence[str]) -> str:
    """' (did you mean 'x'?)' for the allowed name closest to a misspelt key, or ''."""
    close = difflib.get_close_matches(str(key), allowed, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


class ProblemsError(UsageError):
    """An input file is invalid; carries every problem found, not just the first."""

    what = "input"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(
            f"{len(problems)} {self.what} {noun}:\n" + "\n".join(f"  {p}" for p in problems)
        )


class WatchlistError(ProblemsError):
    """A watchlist file is invalid."""

    what = "watchlist"
