"""PEP 440 version strings (what pyproject.toml holds) and semver arithmetic on them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import semver
    from packaging.version import Version

__all__ = [
    "BumpLevel",
    "PreToken",
    "bump_version",
    "compare_versions",
    "is_prerelease",
    "max_level",
    "next_final",
    "parse_pep440",
    "to_pep440",
    "to_semver",
]

BumpLevel = Literal["major", "minor", "patch"]
PreToken = Literal["a", "b", "rc"]
_LEVEL_RANK = {"patch": 1, "minor": 2, "major": 3}


def parse_pep440(text: str) -> Version | None:
    """``text`` as a PEP 440 version (``1.3.0-rc.1`` is accepted and normalised), or None."""
    from packaging.version import InvalidVersion, Version

    try:
        return Version(text)
    except InvalidVersion:
        return None


def to_semver(text: str) -> semver.Version:
    """Map a PEP 440 (or semver-style) version onto semver: ``1.3.0rc1`` -> ``1.3.0-rc.1``.

    Missing release parts are zero; post releases count as their base release (a patch
    bump of ``1.2.3.post1`` is ``1.2.4``); dev releases become a ``dev.N`` pre-release.
    """
    import semver

    version = parse_pep440(text)
    if version is None or len(version.release) > 3:
        raise ValueError(f"{text!r} is not a version PoetFlow can bump (use MAJOR.MINOR.PATCH)")
    major, minor, patch = (*version.release, 0, 0)[:3]
    prerelease: str | None = None
    if version.pre is not None:
        prerelease = f"{version.pre[0]}.{version.pre[1]}"
    elif version.dev is not None:
        prerelease = f"dev.{version.dev}"
    return semver.Version(major, minor, patch, prerelease=prerelease)


def to_pep440(version: semver.Version) -> str:
    """The PEP 440 spelling of a semver version: ``1.3.0-rc.1`` -> ``1.3.0rc1``."""
    from packaging.version import Version

    text = f"{version.major}.{version.minor}.{version.patch}"
    if version.prerelease:
        token, _, number = str(version.prerelease).partition(".")
        text += f"{'.' if token == 'dev' else ''}{token}{number or 0}"
    return str(Version(text))


def is_prerelease(text: str) -> bool:
    version = parse_pep440(text)
    return bool(version is not None and version.is_prerelease)


def compare_versions(left: str, right: str) -> int:
    """-1, 0 or 1 by PEP 440 ordering (both must be valid)."""
    a, b = parse_pep440(left), parse_pep440(right)
    if a is None or b is None:
        raise ValueError(f"cannot compare {left!r} and {right!r}")
    return (a > b) - (a < b)


def max_level(levels: list[BumpLevel | None]) -> BumpLevel | None:
    best: BumpLevel | None = None
    for level in levels:
        if level is not None and (best is None or _LEVEL_RANK[level] > _LEVEL_RANK[best]):
            best = level
    return best


def _bump(version: semver.Version, level: BumpLevel) -> semver.Version:
    final = version.finalize_version()
    if level == "major":
        return final.bump_major()
    if level == "minor":
        return final.bump_minor()
    return final.bump_patch()


def next_final(current: str, level: BumpLevel) -> str:
    """The final release after the final version ``current`` for a change of ``level``."""
    return to_pep440(_bump(to_semver(current), level))


def bump_version(
    current: str,
    level: BumpLevel | Literal["prerelease"],
    *,
    pre: PreToken | None = None,
    last_final: str | None = None,
    final_level: BumpLevel | None = None,
) -> str:
    """The version after ``current`` for a change of ``level``.

    A pre-release current version (``1.3.0rc1``) is finished as ``1.3.0`` unless the
    changes since the last final release (``last_final``, ``final_level``) need more;
    with ``pre`` the pre-release counts on (``rc1`` -> ``rc2``) or starts at 1.
    """
    version = to_semver(current)
    if level == "prerelease":
        token = pre or _token(version) or "rc"
        if version.prerelease and _token(version) == token:
            return to_pep440(version.bump_prerelease())
        base = version.finalize_version() if version.prerelease else version.bump_patch()
        return to_pep440(base.replace(prerelease=f"{token}.1"))
    if version.prerelease:
        base = version.finalize_version()
        target = base
        if last_final is not None and final_level is not None:
            required = _bump(to_semver(last_final), final_level)
            target = max(base, required)
        if pre is None:
            return to_pep440(target)
        if target == base and _token(version) == pre:
            return to_pep440(version.bump_prerelease())
        return to_pep440(target.replace(prerelease=f"{pre}.1"))
    target = _bump(version, level)
    if pre is not None:
        target = target.replace(prerelease=f"{pre}.1")
    return to_pep440(target)


def _token(version: semver.Version) -> str | None:
    if not version.prerelease:
        return None
    return str(version.prerelease).split(".", 1)[0]
