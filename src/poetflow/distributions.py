"""Distribution files to publish: found in ``dist/``, hashed, and described for the upload form."""

from __future__ import annotations

import email.parser
import hashlib
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from poetflow.errors import PublishError
from poetflow.metadata import canonical_name

__all__ = [
    "Distribution",
    "DistributionKind",
    "find_distributions",
    "parse_distribution_filename",
    "upload_fields",
]

DistributionKind = Literal["sdist", "wheel"]

# Core-metadata fields that may repeat, and the form field name the upload API expects.
_MULTI_FIELDS = {
    "classifier": "classifiers",
    "requires-dist": "requires_dist",
    "provides-extra": "provides_extra",
    "project-url": "project_urls",
    "platform": "platform",
    "supported-platform": "supported_platform",
    "dynamic": "dynamic",
    "license-file": "license_file",
    "provides-dist": "provides_dist",
    "obsoletes-dist": "obsoletes_dist",
    "requires-external": "requires_external",
}


@dataclass(frozen=True)
class Distribution:
    """One built file of one package version."""

    path: Path
    kind: DistributionKind
    project: str
    version: str
    sha256: str
    size: int

    @property
    def filename(self) -> str:
        return self.path.name


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def parse_distribution_filename(filename: str) -> tuple[DistributionKind, str, str] | None:
    """(kind, project, version) of a wheel or sdist filename; None for any other file."""
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )

    try:
        if filename.endswith(".whl"):
            project, version, _build, _tags = parse_wheel_filename(filename)
            return "wheel", str(project), str(version)
        if filename.endswith(".tar.gz"):
            project, version = parse_sdist_filename(filename)
            return "sdist", str(project), str(version)
    except (InvalidSdistFilename, InvalidWheelFilename):
        return None
    return None


def describe(path: Path, kind: DistributionKind | None = None) -> Distribution | None:
    """Parse a distribution filename; None for files that are not distributions."""
    parsed = parse_distribution_filename(path.name)
    if parsed is None:
        return None
    found_kind, project, version = parsed
    return Distribution(
        path=path,
        kind=kind or found_kind,
        project=project,
        version=version,
        sha256=_sha256(path),
        size=path.stat().st_size,
    )


def find_distributions(dist_dir: Path, project: str, version: str) -> list[Distribution]:
    """The sdist and wheels of ``project`` ``version`` in ``dist_dir`` (sdist first)."""
    from packaging.version import InvalidVersion, Version

    if not dist_dir.is_dir():
        return []
    try:
        wanted = Version(version)
    except InvalidVersion:
        return []
    found = []
    for path in sorted(dist_dir.iterdir()):
        if not path.is_file():
            continue
        if not (path.name.endswith(".whl") or path.name.endswith(".tar.gz")):
            continue
        # Cheap filename checks first: dist/ often holds many old versions.
        distribution = describe(path)
        if distribution is None:
            continue
        if canonical_name(distribution.project) == canonical_name(project) and (
            Version(distribution.version) == wanted
        ):
            found.append(distribution)
    return sorted(found, key=lambda d: (d.kind != "sdist", d.filename))


def _read_metadata(distribution: Distribution) -> bytes:
    path = distribution.path
    try:
        if distribution.kind == "wheel":
            with zipfile.ZipFile(path) as archive:
                for entry in archive.namelist():
                    parts = entry.split("/")
                    if (
                        len(parts) == 2
                        and parts[0].endswith(".dist-info")
                        and parts[1] == "METADATA"
                    ):
                        return archive.read(entry)
        else:
            with tarfile.open(path, "r:gz") as archive:
                for member in archive.getmembers():
                    parts = member.name.split("/")
                    if len(parts) == 2 and parts[1] == "PKG-INFO":
                        handle = archive.extractfile(member)
                        if handle is not None:
                            return handle.read()
    except (OSError, zipfile.BadZipFile, tarfile.TarError) as exc:
        raise PublishError(f"{path} is not a readable distribution: {exc}.") from None
    raise PublishError(
        f"{path} has no core metadata (METADATA / PKG-INFO).",
        hint="Rebuild it with `poetflow build`.",
    )


def upload_fields(distribution: Distribution) -> list[tuple[str, str]]:
    """The legacy upload API's form fields for ``distribution``, from its own metadata."""
    raw = _read_metadata(distribution).decode("utf-8", "replace")
    message = email.parser.Parser().parsestr(raw)
    fields: list[tuple[str, str]] = [
        (":action", "file_upload"),
        ("protocol_version", "1"),
        ("filetype", "bdist_wheel" if distribution.kind == "wheel" else "sdist"),
        ("pyversion", _pyversion(distribution)),
        ("sha256_digest", distribution.sha256),
        (
            "md5_digest",
            hashlib.md5(distribution.path.read_bytes(), usedforsecurity=False).hexdigest(),
        ),
    ]
    for key, value in message.items():
        lowered = key.lower()
        if lowered == "metadata-version":
            fields.append(("metadata_version", value))
        elif lowered == "home-page":
            fields.append(("home_page", value))
        elif lowered == "description":
            fields.append(("description", value))
        elif lowered in _MULTI_FIELDS:
            fields.append((_MULTI_FIELDS[lowered], value))
        else:
            fields.append((lowered.replace("-", "_"), value))
    body = message.get_payload()
    if isinstance(body, str) and body.strip() and "description" not in message:
        fields.append(("description", body))
    return fields


def _pyversion(distribution: Distribution) -> str:
    if distribution.kind == "sdist":
        return "source"
    from packaging.utils import parse_wheel_filename

    tags = parse_wheel_filename(distribution.filename)[3]
    return sorted({tag.interpreter for tag in tags})[0]
