"""Shared by the CI and container tests: read $GITHUB_OUTPUT the way the runner does."""

from __future__ import annotations

from pathlib import Path


def parse_github_output(path: Path) -> dict[str, str]:
    """Parse ``name=value`` and ``name<<DELIMITER`` entries, as the Actions runner does."""
    values: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body = []
            while lines[index] != delimiter:
                body.append(lines[index])
                index += 1
            index += 1
            values[name] = "\n".join(body)
        else:
            name, value = line.split("=", 1)
            values[name] = value
    return values
