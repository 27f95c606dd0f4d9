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

__all__ = ["load_document", "read_toml", "write_document"]


def read_toml(path: Path) -> dict[str, Any]:
    """Parse ``path`` into plain dicts; malformed TOML becomes a MetadataError naming the file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MetadataError(f"Cannot read {path}: {exc.strerror}.") from exc
    try:
        parsed: dict[str, Any] = tomllib.loads(data.decode("utf-8"))
        return parsed
    except UnicodeDecodeError as exc:
        raise MetadataError(
            f"{path} is not valid UTF-8 (byte {exc.start}).", hint="Save it as UTF-8."
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise MetadataError(
            f"{path} is not valid TOML: {exc}.", hint="Fix the syntax and run the command again."
        ) from exc


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


def write_document(path: Path, document: Mapping[str, Any]) -> None:
    """Write a tomlkit document atomically."""
    import tomlkit

    atomic_write_text(path, tomlkit.dumps(document))
