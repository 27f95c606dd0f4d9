"""Reading one ``[tool.poetflow...]`` table at load time: typed values, unknown keys refused.

Every owner of a section (test, hooks, version, publish, ...) parses its table with a
:class:`Table`, so each problem is reported the same way: the file, the key's full name,
the value found and what a valid one looks like, with a "did you mean" for a misspelt key.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from poetflow.errors import ConfigError

__all__ = ["Table", "closest", "relative_path_problem", "shown"]

T = TypeVar("T")


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The known word ``word`` most likely misspells, if any is close enough."""
    known = list(choices)
    found = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    if found:
        return found[0]
    # An abbreviation ("sync" for "synchronized") is as clear a guess as a typo.
    starting = [choice for choice in known if len(word) >= 3 and choice.startswith(word)]
    return starting[0] if len(starting) == 1 else None


def relative_path_problem(pattern: str, *, may_leave: bool = False) -> str | None:
    """Why ``pattern`` cannot be a path (or glob) below the folder it is relative to
    (the monorepo root, a package), or None. With ``may_leave`` an absolute path or '..'
    is fine here: the caller checks where it resolves to."""
    if not pattern.strip():
        return "it is empty"
    if any(ord(char) < 32 for char in pattern):
        return "it contains a control character"
    if may_leave:
        return None
    if pattern.startswith(("/", "\\", "~")) or re.match(r"[A-Za-z]:", pattern):
        return "it is absolute; it must be relative to the folder it is read from"
    parts = re.split(r"[/\\]", pattern)
    if ".." in parts:
        return "it leaves its folder ('..')"
    if any("**" in part and part != "**" for part in parts):
        return "'**' must be a whole part of the path, as in \"libs/**\""
    return None


class Table:
    """One TOML table: ``where`` is the file, ``path`` the dotted table name in it."""

    def __init__(self, value: Any, where: str, path: str) -> None:
        if not isinstance(value, Mapping):
            raise ConfigError(
                f"{where}: [{path}] must be a table, not {shown(value)}.",
                hint=f"Write it as [{path}] with keys below it.",
            )
        self.data: Mapping[str, Any] = value
        self.where = where
        self.path = path

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def key(self, name: str) -> str:
        """The key's full dotted name, as messages show it."""
        return f"{self.path}.{name}"

    def error(self, name: str, problem: str, hint: str | None = None) -> ConfigError:
        return ConfigError(f"{self.where}: {self.key(name)} {problem}", hint=hint)

    def only(self, allowed: Iterable[str], *, elsewhere: Mapping[str, str] | None = None) -> None:
        """Refuse any key not in ``allowed``; ``elsewhere`` maps keys that belong in another
        table (or file) to a sentence saying where."""
        known = list(allowed)
        for name in self.data:
            if name in known:
                continue
            if elsewhere and name in elsewhere:
                raise self.error(name, f"is not read here: {elsewhere[name]}")
            guess = closest(name, known)
            hint = f"Did you mean `{guess}`?" if guess else f"Known keys: {', '.join(known)}."
            raise ConfigError(
                f"{self.where}: [{self.path}] has an unknown key {name!r}.", hint=hint
            )

    def sub(self, name: str) -> Table:
        """The sub-table ``name`` (empty when absent)."""
        return Table(self.data.get(name, {}), self.where, self.key(name))

    def string(self, name: str, default: T, *, example: str | None = None) -> str | T:
        if name not in self.data:
            return default
        value = self.data[name]
        if not isinstance(value, str) or not value.strip():
            raise self.error(
                name,
                f"must be a non-empty string, not {shown(value)}.",
                f"For example {name} = {example}." if example else None,
            )
        return value

    def boolean(self, name: str, default: bool) -> bool:
        if name not in self.data:
            return default
        value = self.data[name]
        if not isinstance(value, bool):
            raise self.error(name, f"must be true or false, not {shown(value)}.")
        return value

    def number(self, name: str, default: T, *, what: str = "seconds") -> float | T:
        """A positive number (timeouts, sizes)."""
        if name not in self.data:
            return default
        value = self.data[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise self.error(name, f"must be a positive number of {what}, not {shown(value)}.")
        return float(value)

    def strings(self, name: str, default: T, *, example: str) -> tuple[str, ...] | T:
        """A list of strings; a single string counts as a list of one."""
        if name not in self.data:
            return default
        value = self.data[name]
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return tuple(value)
        raise self.error(
            name, f"must be a list of strings, not {shown(value)}.", f"Write it like {example}."
        )

    def choice(self, name: str, allowed: tuple[str, ...], default: T) -> str | T:
        if name not in self.data:
            return default
        value = self.data[name]
        if value not in allowed:
            choices = ", ".join(f'"{item}"' for item in allowed)
            guess = closest(value, allowed) if isinstance(value, str) else None
            raise self.error(
                name,
                f"is {shown(value)}; it must be one of {choices}.",
                f'Did you mean "{guess}"?' if guess else None,
            )
        return str(value)

    def mapping(self, name: str) -> Mapping[str, Any]:
        """A table of arbitrary keys whose values the caller checks."""
        value = self.data.get(name, {})
        if not isinstance(value, Mapping):
            raise self.error(name, f"must be a table, not {shown(value)}.")
        return value


def shown(value: Any) -> str:
    """A value as messages quote it, cut short (a value can be a 5,000-character string)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
