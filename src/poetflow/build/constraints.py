"""The version constraint an internal dependency gets in built metadata."""

from __future__ import annotations

from poetflow.config import InternalConstraint
from poetflow.errors import PoetFlowError

__all__ = ["internal_constraint"]


def internal_constraint(version: str, policy: InternalConstraint) -> str:
    """A PEP 440 specifier for a dependency at ``version``.

    ``exact`` is ``==V``; ``minimum`` is ``>=V``; ``compatible`` is ``>=V,<next major``,
    and for 0.x (where minor releases break, by SemVer convention) ``>=V,<0.(x+1)``.
    """
    from packaging.version import InvalidVersion, Version

    try:
        parsed = Version(version)
    except InvalidVersion as exc:
        raise PoetFlowError(
            f"Version {version!r} is not a PEP 440 version, so it cannot be pinned.",
            hint="Give the package a valid version such as 1.2.0.",
        ) from exc
    if policy == "exact":
        return f"=={version}"
    if policy == "minimum":
        return f">={version}"
    major = parsed.release[0]
    minor = parsed.release[1] if len(parsed.release) > 1 else 0
    upper = f"{major + 1}.0.0" if major > 0 else f"0.{minor + 1}.0"
    return f">={version},<{upper}"
