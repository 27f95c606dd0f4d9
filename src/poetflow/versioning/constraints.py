"""Dependents' version constraints on a member that got a new version: keep or move them.

A range that still admits the new version is kept by default (``dependents-constraint =
"preserve"``, Nx release's default too): rewriting it would force a pyproject and lock
change into a package that needs none. Whether a range admits a version is decided by
poetry-core, so ``^``, ``~``, wildcards and PEP 440 operators mean what Poetry says.
"""

from __future__ import annotations

import re

from poetflow.versioning.versions import parse_pep440, to_pep440, to_semver

__all__ = ["admits", "names_prerelease", "requirement_admits", "updated_constraint"]

_CLAUSE_RE = re.compile(r"^\s*(?P<op>===|~=|==|!=|<=|>=|<|>|\^|~|=)?\s*(?P<version>[^\s,;]+)\s*$")
_LOWER_OPS = frozenset({"", "=", "==", "===", ">=", ">", "^", "~", "~="})


def _next_major(version: str) -> str:
    parsed = to_semver(version)
    if parsed.major == 0:
        return to_pep440(parsed.finalize_version().bump_minor())
    return to_pep440(parsed.finalize_version().bump_major())


def admits(constraint: str, version: str) -> bool | None:
    """Does the Poetry constraint ``constraint`` (``^1.2``, ``>=1,<2``, ``1.2.*``) allow
    ``version``? None when either cannot be parsed."""
    from poetry.core.constraints.version import Version, parse_constraint

    try:
        return bool(parse_constraint(constraint.strip() or "*").allows(Version.parse(version)))
    except ValueError:
        return None


_VERSION_TOKEN_RE = re.compile(r"\d[\w.!+-]*")


def names_prerelease(constraint: str) -> bool:
    """Does ``constraint`` (Poetry or PEP 508) name a pre-release (``>=2.0.0rc1,<3``)?

    pip and Poetry pick a pre-release for a range only when it names one (or with
    ``--pre``): a dependent's ``>=1.4,<2`` admits ``1.5.0rc1`` on paper but installs
    ``1.4.x``.
    """
    for token in _VERSION_TOKEN_RE.findall(constraint.split(";", 1)[0]):
        version = parse_pep440(token.rstrip(".*"))
        if version is not None and version.is_prerelease:
            return True
    return False


def requirement_admits(requirement: str, version: str) -> bool | None:
    """:func:`admits` for a PEP 508 requirement (``name>=1.2,<2; python_version<'4'``)."""
    from poetry.core.constraints.version import Version
    from poetry.core.packages.dependency import Dependency

    try:
        dependency = Dependency.create_from_pep_508(requirement)
        return bool(dependency.constraint.allows(Version.parse(version)))
    except ValueError:
        return None


def _lower_bound(op: str, version_text: str, new_version: str) -> str:
    """The new lower bound, keeping the operator and what it says about precision."""
    if op == ">":
        return f">={new_version}"
    if version_text.endswith(".*"):
        # ==1.2.* -> ==1.5.*: the same number of fixed components.
        fixed = len(version_text[:-2].split("."))
        return f"{op}{'.'.join(new_version.split('.')[:fixed])}.*"
    if op == "~=":
        # ~=1.2 admits 1.x; ~=1.5.0 would admit only 1.5.x: keep the component count.
        new = parse_pep440(new_version)
        count = max(2, len(version_text.split(".")))
        if new is not None and new.pre is None and new.dev is None:
            release = (*new.release, 0, 0, 0)[:count]
            return "~=" + ".".join(str(part) for part in release)
    return f"{op}{new_version}"


def updated_constraint(constraint: str, new_version: str) -> str | None:
    """``constraint`` moved up so that it requires ``new_version``; None when not a version
    constraint we can move (``*``, markers, URLs) or nothing changes.

    Lower bounds take the new version and keep their operator (``^0.1`` -> ``^0.2.0``,
    ``>=0.1`` -> ``>=0.2.0``, ``~=1.2`` -> ``~=1.5``); an upper bound the new version would
    break moves to the next major (0.x: next minor); ``!=`` clauses stay.
    """
    text = constraint.strip()
    if not text or text == "*" or ";" in text or "@" in text or "||" in text:
        return None
    separator = "," if "," in text else None
    clauses = text.split(",") if separator else [text]
    new = parse_pep440(new_version)
    if new is None:
        return None
    rewritten = []
    for clause in clauses:
        match = _CLAUSE_RE.match(clause)
        if match is None:
            return None
        op = match.group("op") or ""
        version_text = match.group("version")
        if version_text == "*" or parse_pep440(version_text.removesuffix(".*")) is None:
            return None
        if op in _LOWER_OPS:
            rewritten.append(_lower_bound(op, version_text, new_version))
        elif op in ("<", "<="):
            from packaging.specifiers import InvalidSpecifier, SpecifierSet

            # PEP 440: "<2" excludes 2.0.0rc1 although 2.0.0rc1 sorts below 2.
            try:
                keeps = SpecifierSet(f"{op}{version_text}").contains(new, prereleases=True)
            except InvalidSpecifier:
                keeps = False
            rewritten.append(clause.strip() if keeps else f"<{_next_major(new_version)}")
        else:
            rewritten.append(clause.strip())
    result = ",".join(rewritten)
    return None if result.replace(" ", "") == text.replace(" ", "") else result
