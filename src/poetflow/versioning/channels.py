"""Pre-release channels: branches whose releases are PEP 440 pre-releases (``2.0.0rc1``).

``[tool.poetflow.channels]`` maps a name to a branch (an fnmatch pattern) and a PEP 440
pre-release label. On a matching branch the next version is the final version the
commits since the last *final* release call for, plus the label and a counter that
continues from the highest existing tag of that version and label; elsewhere the same
commits graduate to the final version.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from poetflow.errors import ConfigError, UsageError
from poetflow.tables import Table, shown
from poetflow.versioning.versions import BumpLevel, PreToken, next_final, parse_pep440

if TYPE_CHECKING:
    from packaging.version import Version

    from poetflow.git import Repository

__all__ = [
    "PRE_LABELS",
    "Channel",
    "channel_prerelease",
    "continue_counter",
    "current_branch",
    "parse_channels",
    "select_channel",
]

PRE_LABELS: tuple[PreToken, ...] = ("a", "b", "rc")
# What people write for a label, and the PEP 440 spelling PoetFlow wants instead: the
# normalised form is what ends up in pyproject.toml, tags and file names.
_SPELLINGS: dict[str, str] = {
    "alpha": "a",
    "beta": "b",
    "c": "rc",
    "pre": "rc",
    "preview": "rc",
}
_KEYS = ("branch", "prerelease")
_GLOB_CHARS = frozenset("*?[")
_EXAMPLE = '{ branch = "next", prerelease = "rc" }'


@dataclass(frozen=True)
class Channel:
    """One ``[tool.poetflow.channels]`` entry: releases on ``branch`` (an fnmatch pattern,
    ``beta/*``) are ``prerelease`` pre-releases (``a``, ``b`` or ``rc``)."""

    name: str
    branch: str
    prerelease: PreToken
    source: str = "pyproject.toml"

    @property
    def is_pattern(self) -> bool:
        return any(char in _GLOB_CHARS for char in self.branch)

    def matches(self, branch: str) -> bool:
        # Case-sensitive, as git branch names are.
        return fnmatch.fnmatchcase(branch, self.branch)

    def describe(self) -> str:
        return f"channel {self.name!r} (branch {self.branch!r}, prerelease {self.prerelease!r})"


def _label(entry: Table, name: str) -> PreToken:
    if "prerelease" not in entry:
        raise entry.error(
            "prerelease", "is missing.", f"For example {name} = {_EXAMPLE} (a, b or rc)."
        )
    value = entry.data["prerelease"]
    if value in PRE_LABELS:
        return cast(PreToken, value)
    spelt = _SPELLINGS.get(str(value).lower()) if isinstance(value, str) else None
    if spelt is not None:
        hint = f'PEP 440 spells it "{spelt}": prerelease = "{spelt}".'
    else:
        hint = 'Use "a" (alpha), "b" (beta) or "rc" (release candidate).'
    raise entry.error("prerelease", f'is {shown(value)}; it must be "a", "b" or "rc".', hint)


def _branch(entry: Table, name: str) -> str:
    if "branch" not in entry:
        raise entry.error(
            "branch", "is missing.", f"For example {name} = {_EXAMPLE}; globs such as beta/*."
        )
    branch = entry.string("branch", "", example='"next" or "beta/*"').strip()
    if branch.startswith("refs/"):
        short = branch.removeprefix("refs/heads/")
        raise entry.error(
            "branch", f"is {shown(branch)}; write the branch name.", f'For example "{short}".'
        )
    if any(char.isspace() or ord(char) < 32 for char in branch):
        raise entry.error(
            "branch", f"is {shown(branch)}; a branch name has no spaces.", 'For example "next".'
        )
    return branch


def parse_channels(table: Table) -> tuple[Channel, ...]:
    """Validate ``[tool.poetflow.channels]``: each entry a table with ``branch`` and
    ``prerelease``; problems name the file and the entry's key (exit 2 at load)."""
    channels = []
    for name, value in table.data.items():
        if not isinstance(value, Mapping):
            raise table.error(
                str(name), f"must be a table, not {shown(value)}.", f"Write {name} = {_EXAMPLE}."
            )
        entry = table.sub(str(name))
        entry.only(_KEYS)
        channels.append(Channel(str(name), _branch(entry, name), _label(entry, name), table.where))
    return tuple(channels)


def select_channel(channels: Iterable[Channel], branch: str | None) -> Channel | None:
    """The channel ``branch`` releases on: a channel naming the branch exactly wins over
    patterns; a branch that two patterns match is a ConfigError naming both."""
    if branch is None:
        return None
    found = [channel for channel in channels if channel.matches(branch)]
    exact = [channel for channel in found if not channel.is_pattern]
    if exact:
        return exact[0]
    if len(found) > 1:
        first, second = found[:2]
        raise ConfigError(
            f"{first.source}: the branch {branch!r} matches two entries of "
            f"tool.poetflow.channels, {first.name!r} ({first.branch!r}) and "
            f"{second.name!r} ({second.branch!r}).",
            hint="Make the patterns exclusive, or add an entry naming the branch exactly.",
        )
    return found[0] if found else None


# Where a CI system keeps the branch name: a leading ``refs/heads/`` (Azure's full ref,
# GitHub's GITHUB_REF fallback) and ``origin/`` (Jenkins' GIT_BRANCH) are not part of it.
_REF_PREFIXES = ("refs/heads/", "origin/")


def current_branch(repo: Repository, env: Mapping[str, str] | None = None) -> str | None:
    """The branch being released: git's HEAD, or on a detached HEAD (CI checkouts) the
    branch the CI system names (GITHUB_REF_NAME, CI_COMMIT_REF_NAME, BRANCH_NAME, ...,
    as :mod:`poetflow.ci` detects them). None when neither knows one."""
    name = repo.current_branch()
    if name:
        return name
    from poetflow.ci.registry import detect_system

    ref = getattr(detect_system(env), "ref", None)
    if not ref:
        return None
    text = str(ref)
    for prefix in _REF_PREFIXES:
        text = text.removeprefix(prefix)
    return text or None


def check_pre(channel: Channel, pre: str | None, branch: str) -> PreToken:
    """The label to release with: the channel's, or ``--pre`` when it says the same."""
    if pre is not None and pre != channel.prerelease:
        raise UsageError(
            f"--pre {pre} disagrees with {channel.source}: the branch {branch!r} is the "
            f"{channel.describe()}, whose releases are {channel.prerelease} pre-releases.",
            hint=f"Drop --pre (or pass --pre {channel.prerelease}), or change "
            f"tool.poetflow.channels.{channel.name}.",
        )
    return channel.prerelease


def continue_counter(version: str, known: Iterable[str], current: str | None = None) -> str:
    """``version`` (a pre-release) with its number raised above every ``known`` version
    (tags) and ``current`` of the same release and label: ``2.0.0rc1`` with ``2.0.0rc2``
    tagged is ``2.0.0rc3``, so two branches of one channel never make the same tag."""
    from packaging.version import Version

    target = Version(version)
    if target.pre is None:
        return version
    label, number = target.pre
    highest = number - 1
    for text in (*known, *([current] if current else [])):
        other = parse_pep440(text)
        if other is None or other.pre is None or other.pre[0] != label:
            continue
        if _release(other) == _release(target):
            highest = max(highest, other.pre[1])
    if highest < number:
        return version
    return str(Version(f"{target.base_version}{label}{highest + 1}"))


def _release(version: Version) -> tuple[int, ...]:
    """MAJOR.MINOR.PATCH, so that ``2.0rc1`` and ``2.0.0rc2`` count as one release."""
    return (*version.release, 0, 0, 0)[:3]


def channel_prerelease(
    current: str,
    label: PreToken,
    *,
    level: BumpLevel,
    last_final: str | None,
    known: Iterable[str],
) -> str:
    """The next pre-release on a channel for a package at ``current``.

    The base is the final version the commits since the last final release (``level``)
    call for, from ``last_final`` (the tag) and from ``current`` (a final version is
    bumped; a pre-release already names a base, which only a bigger change moves up:
    ``1.5.0rc2`` + breaking is ``2.0.0``). The counter continues from the ``known`` tags
    and ``current`` of that base and label, starting at 1.
    """
    from packaging.version import Version

    now = Version(current)
    candidates = [Version(next_final(last_final, level))] if last_final is not None else []
    if now.is_prerelease:
        candidates.append(Version(now.base_version))
    else:
        candidates.append(Version(next_final(current, level)))
    base = max(candidates)
    release = ".".join(str(part) for part in _release(base))
    return continue_counter(str(Version(f"{release}{label}1")), known, current)
