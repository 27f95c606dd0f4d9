"""What signing and verification report: each signed file, each verdict, each package."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "PackageSigning",
    "SignReport",
    "SignStatus",
    "SignedArtifact",
    "VerifyResult",
    "VerifyStatus",
]

VerifyStatus = Literal["verified", "failed", "missing"]
SignStatus = Literal["signed", "failed", "blocked", "would sign"]


@dataclass(frozen=True)
class SignedArtifact:
    """One signed file: the Sigstore bundle beside it and, for a distribution, its attestation."""

    artifact: Path
    bundle: Path
    attestation: Path | None
    identity: str
    issuer: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "artifact": str(self.artifact),
            "bundle": str(self.bundle),
            "attestation": str(self.attestation) if self.attestation else None,
        }


@dataclass(frozen=True)
class VerifyResult:
    """The verdict on one artifact; ``detail`` says why it failed, in one sentence."""

    artifact: Path
    bundle: Path | None
    status: VerifyStatus
    detail: str = ""
    identity: str | None = None
    issuer: str | None = None
    attestation: Path | None = None

    @property
    def ok(self) -> bool:
        return self.status == "verified"


@dataclass(frozen=True)
class PackageSigning:
    """What signing did for one package: the files it was to sign and what came of it.

    ``blocked``: a dependency failed to sign, so its dependents were not signed either
    (and will not be published). ``would sign`` in a dry run.
    """

    name: str
    version: str
    status: SignStatus
    files: tuple[Path, ...]
    signed: tuple[SignedArtifact, ...] = ()
    detail: str = ""
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status in ("signed", "would sign")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "status": self.status,
            "detail": self.detail,
            "duration": round(self.duration, 3),
            "files": [str(path) for path in self.files],
            "artifacts": [item.to_dict() for item in self.signed],
        }


@dataclass(frozen=True)
class SignReport:
    """One signing run: one identity, every package in dependency order.

    ``identity``/``issuer`` are what the certificate authority certified (in a dry run,
    the token's own claims); ``other_files`` are named files that belong to no package
    (signed, they are in ``others``).
    """

    instance: str
    identity: str | None
    issuer: str | None
    packages: tuple[PackageSigning, ...]
    other_files: tuple[Path, ...] = ()
    others: tuple[SignedArtifact, ...] = ()
    dry_run: bool = False
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        return all(package.ok for package in self.packages)

    @property
    def signed(self) -> tuple[SignedArtifact, ...]:
        return (*(item for p in self.packages for item in p.signed), *self.others)

    @property
    def files(self) -> tuple[Path, ...]:
        """Every file signed or to be signed, package by package, then the others."""
        return (*(path for p in self.packages for path in p.files), *self.other_files)

    def get(self, name: str) -> PackageSigning | None:
        return next((package for package in self.packages if package.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "instance": self.instance,
            "identity": self.identity,
            "issuer": self.issuer,
            "dry_run": self.dry_run,
            "ok": self.ok,
            "duration": round(self.duration, 3),
            "packages": [package.to_dict() for package in self.packages],
            "artifacts": [item.to_dict() for item in self.signed],
        }
