"""Shell examples in Markdown: which commands a page shows and how the docs tests run them.

The convention (documented in docs/contributing.md):

- ```console blocks: each command on a line starting with ``$ ``; other lines are output.
  ```bash / ```sh / ```shell blocks: every line that is not a comment is a command.
  A line ending in ``\\`` continues on the next one.
- Only commands whose program is ``poetflow`` or ``git`` (after ``VAR=value``
  assignments) run; ``pip``, ``pipx``, ``.venv/bin/...`` and the like are shown only.
- A command must exit 0 unless its line ends with ``# exit N``.
- ``<!-- docs-test: skip (reason) -->`` right before a block skips it (network, index,
  credentials).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Example", "page_examples"]

_FENCE_RE = re.compile(r"^\s*```\s*(?P<lang>[\w-]*)")
_SKIP_RE = re.compile(r"<!--\s*docs-test:\s*skip\b")
_EXIT_RE = re.compile(r"#\s*exit\s+(?P<code>\d+)\b")
_ASSIGNMENT_RE = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*")
_SHELL_LANGS = frozenset({"console", "bash", "sh", "shell"})
_RUNNABLE = frozenset({"poetflow", "git"})


@dataclass(frozen=True)
class Example:
    """One command of a page: where it is, whether it runs, and the exit code it needs."""

    page: Path
    line: int
    command: str
    expected_exit: int
    skipped: bool

    @property
    def runnable(self) -> bool:
        rest = _ASSIGNMENT_RE.sub("", self.command, count=1)
        program = rest.split(maxsplit=1)[0] if rest.strip() else ""
        return program in _RUNNABLE

    @property
    def where(self) -> str:
        return f"{self.page.name}:{self.line}"


def _commands(lang: str, body: list[tuple[int, str]]) -> list[tuple[int, str]]:
    commands: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, raw in body:
        line = raw.rstrip()
        if pending is not None:
            start, text = pending
            text = f"{text} {line.strip().removesuffix(chr(92)).strip()}"
            pending = (start, text) if line.endswith("\\") else None
            if pending is None:
                commands.append((start, text))
            continue
        if lang == "console":
            if not line.lstrip().startswith("$ "):
                continue
            text = line.lstrip()[2:]
        else:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            text = line.strip()
        if text.endswith("\\"):
            pending = (number, text.removesuffix("\\").strip())
        else:
            commands.append((number, text))
    if pending is not None:
        commands.append(pending)
    return commands


def page_examples(page: Path) -> list[Example]:
    """Every shell command shown on ``page``, in order."""
    lines = page.read_text(encoding="utf-8").splitlines()
    examples: list[Example] = []
    index = 0
    previous = ""
    while index < len(lines):
        match = _FENCE_RE.match(lines[index])
        if match is None:
            if lines[index].strip():
                previous = lines[index]
            index += 1
            continue
        lang = match.group("lang").lower()
        skipped = bool(_SKIP_RE.search(previous))
        body: list[tuple[int, str]] = []
        index += 1
        while index < len(lines) and not lines[index].strip().startswith("```"):
            body.append((index + 1, lines[index]))
            index += 1
        index += 1
        previous = ""
        if lang not in _SHELL_LANGS:
            continue
        for number, command in _commands(lang, body):
            exit_match = _EXIT_RE.search(command)
            examples.append(
                Example(
                    page=page,
                    line=number,
                    command=command,
                    expected_exit=int(exit_match.group("code")) if exit_match else 0,
                    skipped=skipped,
                )
            )
    return examples
