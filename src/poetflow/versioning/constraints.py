"""Rewriting a dependent's version constraint on a member that got a new version."""

from __future__ import annotations

import re

from poetflow.versioning.versions import parse_pep440, to_pep440, to_semver

__all__ = ["updated_constraint"]

_CLAUSE_RE = re.compile(r"^\s*(?P<op>===|~=|==|!=|<=|>=|<|>|\^|~|=)?\s*(?P<version>[^\s,;]+)\s*$")
_LOWER_OPS = frozenset({"", "=", "==", "===", ">=", ">", "^", "~", "~="})


def _next_major(version: str) -> str:
    parsed = to_semver(version)
    if parsed.major == 0:
        return to_pep440(parsed.finalize_version().bump_minor())
    return to_pep440(parsed.finalize_version().bump_major())


def updated_constraint(constraint: str, new_version: str) -> str | None:
    """``constraint`` moved up so that it requires ``new_version``; None when not a version
    constraint we can move (``*``, markers, URLs) or nothing changes.

    Lower bounds take the new version and keep their operator (``^0.1`` -> ``^0.2.0``,
    ``>=0.1`` -> ``>=0.2.0``); an upper bound the new version would break moves to the
    next major (0.x: next minor); ``!=`` clauses stay.
    """
    text = constraint.strip()
    if not text or text == "*" or ";" in text or "@" in text:
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
        if version_text == "*" or parse_pep440(version_text.rstrip(".*")) is None:
            return None
        if op in _LOWER_OPS and op != ">":
            rewritten.append(f"{op}{new_version}")
        elif op == ">":
            rewritten.append(f">={new_version}")
        elif op in ("<", "<="):
            bound = parse_pep440(version_text)
            keeps = bound is not None and (new < bound if op == "<" else new <= bound)
            rewritten.append(clause.strip() if keeps else f"<{_next_major(new_version)}")
        else:
            rewritten.append(clause.strip())
    result = ",".join(rewritten)
    return None if result.replace(" ", "") == text.replace(" ", "") else result
