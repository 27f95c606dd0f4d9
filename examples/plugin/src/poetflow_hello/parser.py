"""A commit parser for the gitmoji convention: ``:sparkles: add search`` is a feature."""

from __future__ import annotations

import re
from typing import Literal

from poetflow.plugins import ParsedCommit

# The leading emoji code decides the bump and the changelog section (PoetFlow's default
# sections are keyed feat, fix, perf, revert, docs: reuse those keys to appear in them).
Bump = Literal["major", "minor", "patch", "none"]
EMOJI: dict[str, tuple[Bump, str]] = {
    "boom": ("major", "feat"),
    "sparkles": ("minor", "feat"),
    "bug": ("patch", "fix"),
    "ambulance": ("patch", "fix"),
    "zap": ("patch", "perf"),
    "memo": ("none", "docs"),
    "rewind": ("patch", "revert"),
}
_HEADER = re.compile(r"^:(?P<code>[a-z0-9_+-]+):\s+(?P<subject>\S.*)$")


class EmojiCommits:
    """``poetflow.commit_parsers``: ``:boom:`` major, ``:sparkles:`` minor, ``:bug:`` patch.

    Messages that do not start with a known ``:code:`` are not understood (None): PoetFlow
    counts them as non-conventional and they release nothing.
    """

    name = "emoji"
    api_version = "1.0"

    def parse(self, message: str) -> ParsedCommit | None:
        header = message.strip().split("\n", 1)[0].strip()
        match = _HEADER.match(header)
        if match is None or match.group("code") not in EMOJI:
            return None
        bump, section = EMOJI[match.group("code")]
        return ParsedCommit(
            bump=bump,
            section=section,
            subject=match.group("subject").strip(),
            breaking=bump == "major",
        )
