"""Release history per package: its tags (by ``tag-format``) and the commits touching it."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from poetflow.commits import ConventionalCommit, parse_commit_message
from poetflow.errors import ConfigError
from poetflow.git import CommitRecord, Repository
from poetflow.metadata import canonical_name
from poetflow.versioning.settings import VersionSettings
from poetflow.versioning.versions import parse_pep440
from poetflow.workspace import Package, Workspace

__all__ = [
    "PackageCommit",
    "PackageHistory",
    "PluginCommit",
    "ReleaseTag",
    "collect_histories",
    "message_parser",
    "tag_pattern",
]

logger = logging.getLogger(__name__)
_RELEASE_RE = re.compile(r"\d+(?:\.\d+)*")


@dataclass(frozen=True)
class PluginCommit(ConventionalCommit):
    """A message understood by a ``commit-parser`` plugin: its own bump, ``type`` is its section.

    The planner takes ``bump`` as it is (bump-rules do not apply); the changelog files the
    commit under ``type`` like a conventional commit type.
    """

    bump: str = "none"


def message_parser(settings: VersionSettings) -> Callable[[str], ConventionalCommit]:
    """How commit messages are read: conventional commits, or the configured plugin.

    Plugins are imported only when ``commit-parser`` is set. An unknown or unusable name
    is a ConfigError (exit 2) naming the file, the key and the installed parsers.
    """
    if settings.commit_parser is None:
        return parse_commit_message
    from poetflow.plugins import COMMIT_PARSERS, PluginError, available, load_plugin

    name = settings.commit_parser
    installed = available(COMMIT_PARSERS)
    found = next((item for item in installed if item[0].name == name), None)
    if found is None:
        names = ", ".join(info.name for info, _ep in installed) or "none"
        raise ConfigError(
            f"{settings.source}: tool.poetflow.version.commit-parser is {name!r}, which is not "
            f"an installed poetflow.commit_parsers plugin (installed: {names}).",
            hint="Install the plugin or fix the name: `poetflow plugins` lists them.",
        )
    loaded = load_plugin(*found)
    if loaded.status != "loaded":
        raise ConfigError(
            f"{settings.source}: tool.poetflow.version.commit-parser {name!r} from "
            f"{loaded.info.distribution} cannot be used: {loaded.error}."
        )
    parser = loaded.obj
    distribution = loaded.info.distribution

    def parse(message: str) -> ConventionalCommit:
        try:
            parsed = parser.parse(message)
        except Exception as exc:  # a third-party parser's crash names the parser, no traceback
            summary = message.strip().split("\n", 1)[0]
            raise PluginError(
                f"Commit parser {name!r} from {distribution} failed on commit {summary!r}: "
                f"{type(exc).__name__}: {exc}."
            ) from exc
        return _from_parsed(message, parsed)

    return parse


def _from_parsed(message: str, parsed: Any) -> ConventionalCommit:
    """A plugin's ParsedCommit (or None: not understood) as the commit the planner reads."""
    if parsed is None:
        header = message.strip().split("\n", 1)[0].strip()
        return ConventionalCommit(raw=message, conventional=False, subject=header)
    bump = parsed.bump if parsed.bump in ("major", "minor", "patch") else "none"
    breaking = bool(parsed.breaking) or bump == "major"
    subject = str(parsed.subject).strip()
    return PluginCommit(
        raw=message,
        conventional=True,
        type=str(parsed.section).strip().lower() or bump,
        subject=subject,
        breaking=breaking,
        breaking_note=subject if breaking else None,
        bump=bump,
    )


@dataclass(frozen=True)
class ReleaseTag:
    """A tag that marks a release: its name, normalised PEP 440 version and commit."""

    name: str
    version: str
    commit: str
    time: int
    prerelease: bool


@dataclass(frozen=True)
class PackageCommit:
    """A commit that touched a package, with its parsed message."""

    id: str
    time: int
    message: ConventionalCommit

    @property
    def short_id(self) -> str:
        return self.id[:7]


@dataclass(frozen=True)
class PackageHistory:
    """What git knows about one package.

    ``pending`` are the commits since ``last_tag`` (newest first), ``since_final`` those
    since the last final (non pre-release) tag. ``releases`` maps each reachable tag name
    to its own commits and is filled only for a full walk (changelogs). ``known`` are all
    the package's tags, reachable from HEAD or not (another branch's pre-releases), so that
    a new pre-release never takes a number another branch already tagged.
    """

    package: str
    tags: tuple[ReleaseTag, ...]
    last_tag: ReleaseTag | None
    last_final: ReleaseTag | None
    pending: tuple[PackageCommit, ...]
    since_final: tuple[PackageCommit, ...]
    releases: dict[str, tuple[PackageCommit, ...]] = field(default_factory=dict)
    known: tuple[ReleaseTag, ...] = ()


def tag_pattern(tag_format: str) -> re.Pattern[str]:
    """A regex for ``tag-format`` with ``name`` and ``version`` groups."""
    pattern = re.escape(tag_format)
    pattern = pattern.replace(re.escape("{name}"), r"(?P<name>.+?)", 1)
    pattern = pattern.replace(re.escape("{version}"), r"(?P<version>\d[^\s/]*)", 1)
    return re.compile(f"^{pattern}$")


def _release_tags(
    repo: Repository, workspace: Workspace, settings: VersionSettings
) -> dict[str, list[ReleaseTag]]:
    """Tags per package (independent) or one shared list under the key ``""``."""
    pattern = tag_pattern(settings.tag_format)
    per_key: dict[str, list[ReleaseTag]] = {}
    named = "{name}" in settings.tag_format
    for tag in repo.tags():
        match = pattern.match(tag.name)
        if match is None:
            continue
        version = parse_pep440(match.group("version"))
        if version is None:
            continue
        key = canonical_name(match.group("name")) if named else ""
        if named and key not in workspace.by_name:
            continue
        _warn_unusual(tag.name, match.group("version"), version)
        per_key.setdefault(key, []).append(
            ReleaseTag(tag.name, str(version), tag.commit, tag.time, version.is_prerelease)
        )
    for tags in per_key.values():
        tags.sort(key=lambda tag: (parse_pep440(tag.version), tag.time))
    return per_key


def _warn_unusual(tag: str, written: str, version: Any) -> None:
    """A tag whose release numbers are not as PEP 440 prints them (``v01.02`` is 1.2) still
    counts, but it may be a typo or another tool's tag: say how it was read."""
    release = _RELEASE_RE.match(written)
    normal = ".".join(str(part) for part in version.release)
    if release is not None and release.group() != normal:
        logger.warning(
            "The tag %r counts as the release of version %s: its version %r has leading "
            "zeros, which PEP 440 drops. Retag it if that is not the release it marks.",
            tag,
            version,
            written,
        )


class _PathOwners:
    """Which packages a changed path belongs to (longest package folder wins)."""

    def __init__(self, folders: dict[str, str], shared: Sequence[str], everyone: Iterable[str]):
        self.folders = folders
        self.shared = tuple(shared)
        self.everyone = frozenset(everyone)
        self.root_owner = folders.get("")

    def owners(self, paths: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for path in paths:
            if any(path == s or path.startswith(s + "/") for s in self.shared):
                return set(self.everyone)
            owner = self.root_owner
            # A full file path or a watched folder itself: check every folder prefix.
            slashed = path + "/"
            position = slashed.find("/")
            while position != -1:
                candidate = self.folders.get(slashed[:position])
                if candidate is not None:
                    owner = candidate
                position = slashed.find("/", position + 1)
            if owner is not None:
                found.add(owner)
        return found


def collect_histories(
    repo: Repository,
    workspace: Workspace,
    packages: Sequence[Package],
    settings: VersionSettings,
    *,
    full: bool = False,
) -> dict[str, PackageHistory]:
    """One walk of the history for every package in ``packages``.

    Without ``full`` the walk stops once every package's last release (and last final
    release) tag has been met, which is what planning needs; ``full`` walks to the
    root commit so that every past release gets its commits (changelogs).
    """
    repo.require_full_history("compute versions and changelogs")
    tags_by_key = _release_tags(repo, workspace, settings)
    shared_key = "{name}" not in settings.tag_format
    wanted = {package.name for package in packages}
    folders = {
        package.relpath_from(repo.workdir).strip("/").removeprefix("."): package.name
        for package in workspace.packages
    }
    owners = _PathOwners(folders, settings.shared_paths, wanted)
    candidate_tags = {
        name: tags_by_key.get("" if shared_key else name, []) for name in sorted(wanted)
    }
    tag_commits = {tag.commit for tags in candidate_tags.values() for tag in tags}
    stops: set[str] = set()
    if not full:
        for tags in candidate_tags.values():
            if tags:
                stops.add(tags[-1].commit)
                finals = [tag for tag in tags if not tag.prerelease]
                if finals:
                    stops.add(finals[-1].commit)

    touching: dict[str, list[tuple[int, CommitRecord]]] = {name: [] for name in wanted}
    tag_steps: dict[str, int] = {}
    parsed: dict[str, ConventionalCommit] = {}
    parse_message = message_parser(settings)
    watch = [*folders, *settings.shared_paths]
    for step_number, step in enumerate(repo.mainline(stops, watch=watch)):
        for record in step.introduced:
            if record.id in tag_commits:
                tag_steps.setdefault(record.id, step_number)
            for owner in owners.owners(record.paths):
                if owner in wanted:
                    touching[owner].append((step_number, record))

    def package_commit(record: CommitRecord) -> PackageCommit:
        message = parsed.get(record.id)
        if message is None:
            message = parsed[record.id] = parse_message(record.message)
        return PackageCommit(record.id, record.time, message)

    histories: dict[str, PackageHistory] = {}
    for name in sorted(wanted):
        reachable = [tag for tag in candidate_tags[name] if tag.commit in tag_steps]
        last_tag = reachable[-1] if reachable else None
        finals = [tag for tag in reachable if not tag.prerelease]
        last_final = finals[-1] if finals else None
        commits = [
            (step, record)
            for step, record in touching[name]
            if not record.message.startswith(settings.release_prefix)
        ]
        pending = _newer_than(commits, last_tag, tag_steps)
        since_final = _newer_than(commits, last_final, tag_steps)
        releases: dict[str, tuple[PackageCommit, ...]] = {}
        if full:
            releases = _by_release(commits, reachable, tag_steps, package_commit)
        histories[name] = PackageHistory(
            package=name,
            tags=tuple(reachable),
            last_tag=last_tag,
            last_final=last_final,
            pending=tuple(package_commit(record) for record in pending),
            since_final=tuple(package_commit(record) for record in since_final),
            releases=releases,
            known=tuple(candidate_tags[name]),
        )
    return histories


def _newer_than(
    commits: list[tuple[int, CommitRecord]], tag: ReleaseTag | None, steps: dict[str, int]
) -> list[CommitRecord]:
    if tag is None:
        return [record for _step, record in commits]
    boundary = steps[tag.commit]
    return [record for step, record in commits if step < boundary]


def _by_release(
    commits: list[tuple[int, CommitRecord]],
    tags: list[ReleaseTag],
    steps: dict[str, int],
    to_commit: Callable[[CommitRecord], PackageCommit],
) -> dict[str, tuple[PackageCommit, ...]]:
    """Each commit belongs to the oldest release made at or after it on the mainline."""
    # Oldest tag first: the first one made at or after a commit is the release that shipped
    # it; among tags on one commit the lowest version takes the commits.
    ordered = sorted(tags, key=lambda tag: (-steps[tag.commit], _sort_key(tag)))
    found: dict[str, list[PackageCommit]] = {tag.name: [] for tag in tags}
    for step, record in commits:
        owner = None
        for tag in ordered:
            if steps[tag.commit] <= step:
                owner = tag
                break
        if owner is None:
            continue
        found[owner.name].append(to_commit(record))
    return {name: tuple(items) for name, items in found.items()}


def _sort_key(tag: ReleaseTag) -> Any:
    return parse_pep440(tag.version)
