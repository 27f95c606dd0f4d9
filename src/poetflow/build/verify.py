"""Checks on every built artifact before it reaches ``dist/``: publishable, intact."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import sys
import tarfile
import zipfile
from collections.abc import Collection
from pathlib import Path
from typing import Any

from poetflow.metadata import canonical_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

__all__ = ["verify_artifact"]


def verify_artifact(
    path: Path, kind: str, name: str, version: str, internal: Collection[str]
) -> list[str]:
    """Problems found in one sdist or wheel (empty when it is publishable).

    ``internal`` holds the canonical names of the workspace members: a requirement on one
    of them must carry a version constraint and no direct ``@ file:`` reference.
    """
    try:
        if kind == "wheel":
            return _verify_wheel(path, name, version, internal)
        return _verify_sdist(path, name, version, internal)
    except (OSError, zipfile.BadZipFile, tarfile.TarError, KeyError) as exc:
        return [f"{path.name} cannot be read: {exc}"]


def _metadata_problems(
    raw: bytes, where: str, name: str, version: str, internal: Collection[str]
) -> list[str]:
    from packaging.metadata import ExceptionGroup, Metadata
    from packaging.version import Version

    try:
        metadata = Metadata.from_email(raw, validate=True)
    except ExceptionGroup as group:
        details = "; ".join(str(error) for error in group.exceptions)
        return [f"{where} does not parse as core metadata: {details}"]
    problems = []
    if canonical_name(metadata.name) != canonical_name(name):
        problems.append(f"{where} names {metadata.name!r}, not {name!r}")
    if metadata.version != Version(version):
        problems.append(f"{where} has version {metadata.version}, not {version}")
    for requirement in metadata.requires_dist or []:
        if requirement.url is not None:
            problems.append(
                f"{where} requires {str(requirement)!r}, a direct reference that no index "
                "accepts and no other machine can install"
            )
        elif canonical_name(requirement.name) in internal and not requirement.specifier:
            problems.append(
                f"{where} requires the internal package {str(requirement)!r} without a "
                "version constraint"
            )
    return problems


def _urlsafe_digest(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _verify_wheel(path: Path, name: str, version: str, internal: Collection[str]) -> list[str]:
    problems: list[str] = []
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        dist_info = sorted(
            {entry.split("/")[0] for entry in names if entry.split("/")[0].endswith(".dist-info")}
        )
        if len(dist_info) != 1:
            return [f"{path.name} has {len(dist_info)} .dist-info folders instead of one"]
        folder = dist_info[0]
        metadata = archive.read(f"{folder}/METADATA")
        problems += _metadata_problems(metadata, f"{path.name} METADATA", name, version, internal)
        record_name = f"{folder}/RECORD"
        rows = list(csv.reader(io.StringIO(archive.read(record_name).decode("utf-8"))))
        recorded: dict[str, tuple[str, str]] = {
            row[0]: (row[1], row[2]) for row in rows if row and len(row) >= 3
        }
        for entry in names:
            if entry.endswith("/") or entry == record_name:
                continue
            if entry not in recorded:
                problems.append(f"{path.name}: {entry} is missing from RECORD")
                continue
            data = archive.read(entry)
            expected_hash, expected_size = recorded.pop(entry)
            if expected_hash != _urlsafe_digest(data) or expected_size != str(len(data)):
                problems.append(f"{path.name}: RECORD hash or size of {entry} does not match")
        recorded.pop(record_name, None)
        problems += [
            f"{path.name}: RECORD lists {entry}, which is not in the wheel" for entry in recorded
        ]
    return problems


def _verify_sdist(path: Path, name: str, version: str, internal: Collection[str]) -> list[str]:
    problems: list[str] = []
    with tarfile.open(path, "r:gz") as archive:
        members = {member.name: member for member in archive.getmembers()}
        tops = {entry.split("/")[0] for entry in members}
        if len(tops) != 1:
            return [f"{path.name} does not have exactly one top-level folder"]
        top = tops.pop()
        pkg_info = _read_member(archive, members.get(f"{top}/PKG-INFO"))
        if pkg_info is None:
            return [f"{path.name} has no PKG-INFO"]
        problems += _metadata_problems(pkg_info, f"{path.name} PKG-INFO", name, version, internal)
        pyproject = _read_member(archive, members.get(f"{top}/pyproject.toml"))
        if pyproject is not None:
            problems += _pyproject_problems(pyproject, path.name, internal)
    return problems


def _read_member(archive: tarfile.TarFile, member: tarfile.TarInfo | None) -> bytes | None:
    if member is None:
        return None
    handle = archive.extractfile(member)
    return None if handle is None else handle.read()


def _pyproject_problems(raw: bytes, archive_name: str, internal: Collection[str]) -> list[str]:
    """A path dependency on a member inside the sdist makes it unbuildable elsewhere."""
    where = f"{archive_name} pyproject.toml"
    try:
        data: dict[str, Any] = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return [f"{where} does not parse: {exc}"]
    problems = []
    project = data.get("project", {})
    requirements = list(project.get("dependencies", []) or [])
    for extra in (project.get("optional-dependencies", {}) or {}).values():
        requirements += list(extra)
    problems += [
        f"{where} requires {requirement!r}, a direct file reference"
        for requirement in requirements
        if _is_file_reference(str(requirement))
    ]
    poetry_main = data.get("tool", {}).get("poetry", {}).get("dependencies", {}) or {}
    for dep_name, spec in poetry_main.items():
        specs = spec if isinstance(spec, list) else [spec]
        for item in specs:
            if isinstance(item, dict) and "path" in item and canonical_name(dep_name) in internal:
                problems.append(
                    f"{where} still has the path dependency {dep_name} = {{path = "
                    f"{item['path']!r}}}"
                )
    return problems


def _is_file_reference(requirement: str) -> bool:
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        url = Requirement(requirement).url
    except InvalidRequirement:
        return False
    return url is not None and url.startswith("file:")
