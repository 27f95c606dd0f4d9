"""Checks against the packaging standards: PEP 508 names and requirements, PEP 440 versions,
Poetry's version constraints.

Discovery checks every member's metadata, so each check is a regular expression for the
shapes nearly every project writes, and the real parser (``packaging``, poetry-core) only
when that fails: importing them costs more than discovering a hundred packages, and the
parser, not the shortcut, has the last word on anything unusual.
"""

from __future__ import annotations

import re

__all__ = [
    "MAX_NAME_LENGTH",
    "constraint_problem",
    "name_problem",
    "requirement_problem",
    "version_problem",
]

# A wheel file name (name-version-tag.whl) must fit the 255 bytes most file systems allow.
MAX_NAME_LENGTH = 200

_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_NAME_RE = re.compile(rf"{_NAME}\Z")
_RELEASE_RE = re.compile(r"\d+(?:\.\d+)*\Z")
# name, [extras], specifiers: only operators and plain release numbers that every PEP 440
# operator accepts (~= needs two components); anything else goes to `packaging`.
_SPECIFIER = r"(?:(?:==|!=|<=|>=|<|>)\s*\d+(?:\.\d+)*|~=\s*\d+(?:\.\d+)+)"
_SPECIFIERS = rf"{_SPECIFIER}(?:\s*,\s*{_SPECIFIER})*"
_EXTRAS = rf"\[\s*{_NAME}(?:\s*,\s*{_NAME})*\s*\]"
_REQUIREMENT_RE = re.compile(
    rf"\s*{_NAME}\s*(?:{_EXTRAS})?\s*(?:{_SPECIFIERS}|\(\s*{_SPECIFIERS}\s*\))?\s*\Z"
)
# Poetry constraints: "*", "^1.2", "~1.2", ">=1,<2", "1.2.*" (a wildcard only after
# ==, != or no operator), joined by "," or "||".
_POETRY_ONE = r"(?:\*|(?:\^|~|~=|<=|>=|<|>)\s*\d+(?:\.\d+)*|(?:==|!=|=)?\s*\d+(?:\.\d+)*(?:\.\*)?)"
_CONSTRAINT_RE = re.compile(rf"\s*{_POETRY_ONE}(?:\s*(?:,|\|\|)\s*{_POETRY_ONE})*\s*\Z")


def name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid distribution name (PEP 508), or None."""
    if len(name) > MAX_NAME_LENGTH:
        return f"it is {len(name)} characters long; at most {MAX_NAME_LENGTH} fit a file name"
    if not _NAME_RE.match(name):
        return (
            "a distribution name has only letters, digits, '.', '-' and '_', and starts "
            "and ends with a letter or digit"
        )
    return None


def version_problem(version: str) -> str | None:
    """Why ``version`` is not a PEP 440 version, or None."""
    if _RELEASE_RE.match(version):
        return None
    from packaging.version import InvalidVersion, Version

    try:
        Version(version)
    except InvalidVersion:
        return "it is not a PEP 440 version"
    return None


def requirement_problem(requirement: str) -> str | None:
    """Why ``requirement`` is not a PEP 508 requirement, or None."""
    if _REQUIREMENT_RE.match(requirement):
        return None
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        Requirement(requirement)
    except InvalidRequirement as exc:
        # packaging's message spans lines (the text, then a caret under the fault).
        return f"it is not a PEP 508 requirement ({str(exc).splitlines()[0]})"
    return None


def constraint_problem(constraint: str) -> str | None:
    """Why ``constraint`` is not a version constraint Poetry understands, or None."""
    if _CONSTRAINT_RE.match(constraint):
        return None
    from poetry.core.constraints.version import parse_constraint

    try:
        parse_constraint(constraint)
    except ValueError:  # poetry-core's ParseConstraintError and InvalidVersionError
        return "it is not a version constraint Poetry understands"
    return None
