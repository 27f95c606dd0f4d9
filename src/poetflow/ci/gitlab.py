"""GitLab CI: the dotenv report that hands PoetFlow's results to downstream jobs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

__all__ = ["DOTENV_FILENAME", "format_dotenv", "write_dotenv"]

DOTENV_FILENAME = "poetflow.env"
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def format_dotenv(values: Mapping[str, str]) -> str:
    """``KEY=value`` lines as GitLab's ``artifacts:reports:dotenv`` parses them.

    GitLab takes no quotes and no multi-line values, so values must be one line.
    """
    lines = []
    for key, value in values.items():
        if not _KEY.match(key):
            raise ValueError(f"invalid dotenv variable name {key!r}")
        if "\n" in value or "\r" in value:
            raise ValueError(f"dotenv value of {key} spans lines; GitLab cannot read it")
        lines.append(f"{key}={value}")
    return "\n".join(lines) + "\n"


def write_dotenv(path: Path, values: Mapping[str, str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(format_dotenv(values), encoding="utf-8")
    return path
