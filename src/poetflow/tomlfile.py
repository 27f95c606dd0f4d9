"""Reading TOML files: fast parsing for discovery, round-trip editing with tomlkit for writes."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from poetflow.errors import MetadataError
from poetflow.files import atomic_write_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

if TYPE_CHECKING:
    import tomlkit.toml_document

__all__ = ["MAX_NESTING", "load_document", "read_toml", "write_document"]

# tomlkit, which edits these files, refuses deeper nesting; reading must refuse it too, or a
# file would pass discovery and fail in the middle of a build.
MAX_NESTING = 100


def read_toml(path: Path) -> dict[str, Any]:
    """Parse ``path`` into plain dicts; malformed TOML becomes a MetadataError naming the file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MetadataError(f"Cannot read {path}: {exc.strerror}.") from exc
    try:
        parsed: dict[str, Any] = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise MetadataError(
            f"{path} is not valid UTF-8 (byte {exc.start}).", hint="Save it as UTF-8."
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise MetadataError(
            f"{path} is not valid TOML: {exc}.", hint="Fix the syntax and run the command again."
        ) from exc
    except RecursionError:
        raise _too_deep(path) from None
    # Only a file with that many brackets can nest that deep: most skip the walk.
    if data.count(b"[") + data.count(b"{") > MAX_NESTING and _depth(parsed) > MAX_NESTING:
        raise _too_deep(path)
    return parsed


def _depth(value: Any) -> int:
    """How deeply arrays and tables nest in ``value`` (iteratively: no recursion limit)."""
    deepest = 0
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _too_deep(path: Path) -> MetadataError:
    # The parsers recurse once per level of nested arrays or inline tables.
    return MetadataError(
        f"{path} nests arrays or tables more than {MAX_NESTING} levels deep.",
        hint="Flatten the nesting; no pyproject.toml setting needs more than a few levels.",
    )


def load_document(path: Path) -> tomlkit.toml_document.TOMLDocument:
    """Parse ``path`` with tomlkit so that it can be edited keeping comments and layout."""
    import tomlkit
    import tomlkit.exceptions

    try:
        return tomlkit.parse(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MetadataError(f"Cannot read {path}: {exc.strerror}.") from exc
    except tomlkit.exceptions.ParseError as exc:
        raise MetadataError(
            f"{path} is not valid TOML: {exc}.", hint="Fix the syntax and run the command again."
        ) from exc
    except RecursionError:
        raise _too_deep(path) from None


def write_document(path: Path, document: Mapping[str, Any]) -> None:
    """Write a tomlkit document atomically."""
    import tomlkit

    atomic_write_text(path, tomlkit.dumps(document))
