"""GitHub Actions: step outputs, the job summary, masks and error annotations."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path

__all__ = [
    "add_mask_commands",
    "append_summary",
    "error_annotation",
    "format_output",
    "write_outputs",
]

_OUTPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def format_output(name: str, value: str) -> str:
    """One ``$GITHUB_OUTPUT`` entry in the heredoc form, safe for any value.

    The delimiter is random (as actions/toolkit does), so a value can hold newlines or
    text that looks like a delimiter without ending the entry early.
    """
    if not _OUTPUT_NAME.match(name):
        raise ValueError(f"invalid output name {name!r}")
    while True:
        delimiter = f"ghadelimiter_{uuid.uuid4()}"
        if delimiter not in value:
            break
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def write_outputs(path: Path, outputs: Mapping[str, str]) -> None:
    """Append ``outputs`` to the ``$GITHUB_OUTPUT`` file (other steps may have written to it)."""
    with path.open("a", encoding="utf-8") as handle:
        for name, value in outputs.items():
            handle.write(format_output(name, value))


def append_summary(path: Path, markdown: str) -> None:
    """Append Markdown to ``$GITHUB_STEP_SUMMARY`` (one file per step, shared by its writers)."""
    with path.open("a", encoding="utf-8") as handle:
        handle.write(markdown if markdown.endswith("\n") else markdown + "\n")


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def error_annotation(
    message: str, *, file: str | None = None, line: int | None = None, title: str | None = None
) -> str:
    """An ``::error file=...,line=...,title=...::message`` workflow command."""
    properties = []
    if file:
        properties.append(f"file={_escape_property(file)}")
    if line is not None:
        properties.append(f"line={line}")
    if title:
        properties.append(f"title={_escape_property(title)}")
    head = "::error " + ",".join(properties) if properties else "::error"
    return f"{head}::{_escape_data(message)}"


def add_mask_commands(secrets: Iterable[str]) -> list[str]:
    """``::add-mask::`` commands; a multi-line secret is masked line by line, as GitHub needs."""
    commands = []
    for secret in secrets:
        for line in secret.splitlines():
            if line.strip():
                commands.append(f"::add-mask::{_escape_data(line)}")
    return commands
