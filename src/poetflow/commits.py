"""Conventional commit messages (spec 1.0.0) parsed into plain data; anything else is data too."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ConventionalCommit", "Footer", "parse_commit_message"]

# type(scope)!: subject — the type is a noun of letters (the spec allows any), the scope
# anything but parentheses and newlines.
_HEADER_RE = re.compile(
    r"^(?P<type>[A-Za-z][A-Za-z0-9_-]*)"
    r"(?:\((?P<scope>[^()\r\n]*)\))?"
    r"(?P<bang>!)?"
    r": (?P<subject>\S.*)$"
)
_REVERT_RE = re.compile(r'^Revert "(?P<reverted>.*)"\s*$')
# A footer token is a word (hyphens for spaces) or BREAKING CHANGE, then ": " or " #".
_FOOTER_RE = re.compile(
    r"^(?P<token>BREAKING CHANGE|[A-Za-z][A-Za-z0-9-]*)(?::[ ]| #)(?P<value>.*)$"
)
_BREAKING_TOKENS = frozenset({"BREAKING CHANGE", "BREAKING-CHANGE"})


@dataclass(frozen=True)
class Footer:
    """A ``Token: value`` (or ``Token #value``) trailer; multi-line values keep their lines."""

    token: str
    value: str


@dataclass(frozen=True)
class ConventionalCommit:
    """One commit message.

    ``conventional`` is False for a message that does not follow the spec: it is kept
    (counted, shown as "other") but never drives a version bump. ``type`` is lower-cased.
    ``breaking_note`` holds the ``BREAKING CHANGE:`` footer text or, for ``!``, the subject.
    """

    raw: str
    conventional: bool
    type: str | None = None
    scope: str | None = None
    subject: str = ""
    body: str = ""
    footers: tuple[Footer, ...] = ()
    breaking: bool = False
    breaking_note: str | None = None
    reverted: str | None = None

    @property
    def summary(self) -> str:
        """The first line of the message."""
        return self.raw.strip().split("\n", 1)[0].strip()


def _split_footers(lines: list[str]) -> tuple[list[str], tuple[Footer, ...]]:
    """Separate the trailing footer paragraph from the body.

    Footers start at the first line of the last paragraph that parses as a footer;
    following lines that are not footers continue the previous footer's value.
    """
    start = len(lines)
    # The footer block is the last paragraph (after a blank line) beginning with a token.
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].strip() == "":
            break
        if _FOOTER_RE.match(lines[index]):
            start = index
    if start == len(lines) or (start > 0 and lines[start - 1].strip() != ""):
        return lines, ()
    footers: list[list[str]] = []
    for line in lines[start:]:
        match = _FOOTER_RE.match(line)
        if match:
            footers.append([match.group("token"), match.group("value")])
        elif footers:
            footers[-1][1] += "\n" + line
    parsed = tuple(Footer(token, value.strip()) for token, value in footers)
    return lines[:start], parsed


def parse_commit_message(message: str) -> ConventionalCommit:
    """Parse ``message``; never raises, whatever the text."""
    text = message.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.strip("\n").split("\n")
    header = lines[0].strip() if lines else ""
    revert = _REVERT_RE.match(header)
    if revert:
        return ConventionalCommit(
            raw=message,
            conventional=True,
            type="revert",
            subject=revert.group("reverted"),
            body="\n".join(lines[1:]).strip(),
            reverted=revert.group("reverted"),
        )
    match = _HEADER_RE.match(header)
    if match is None:
        return ConventionalCommit(raw=message, conventional=False, subject=header)
    rest = lines[1:]
    # The spec requires a blank line after the header; be lenient and strip leading blanks.
    while rest and rest[0].strip() == "":
        rest = rest[1:]
    body_lines, footers = _split_footers(rest)
    breaking_footer = next((f for f in footers if f.token in _BREAKING_TOKENS), None)
    bang = match.group("bang") is not None
    note: str | None = None
    if breaking_footer is not None:
        note = breaking_footer.value
    elif bang:
        note = match.group("subject").strip()
    scope = match.group("scope")
    return ConventionalCommit(
        raw=message,
        conventional=True,
        type=match.group("type").lower(),
        scope=scope.strip() or None if scope is not None else None,
        subject=match.group("subject").strip(),
        body="\n".join(body_lines).strip(),
        footers=footers,
        breaking=bang or breaking_footer is not None,
        breaking_note=note,
    )
