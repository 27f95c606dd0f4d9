"""Planning the next version of every selected package from its commits and dependencies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from poetflow.errors import ConfigError, MetadataError, UsageError
from poetflow.versioning.history import PackageCommit, PackageHistory, PluginCommit
from poetflow.versioning.settings import VersionSettings
from poetflow.versioning.versions import (
    BumpLevel,
    PreToken,
    bump_version,
    compare_versions,
    is_prerelease,
    max_level,
)
from poetflow.workspace import Package, Workspace

if TYPE_CHECKING:
    from poetflow.versioning.channels import Channel
    from poetflow.versioning.merged import MergedRelease

__all__ = [
    "BumpRequest",
    "ConstraintUpdate",
    "PackageVersion",
    "VersionPlan",
    "commit_level",
    "ensure_not_downgrade",
    "plan_set_version",
    "plan_versions",
]

BumpRequest = Literal["auto", "major", "minor", "patch", "prerelease"]
_REQUESTS = ("auto", "major", "minor", "patch", "prerelease")
_PRE_TOKENS = ("a", "b", "rc")


@dataclass(frozen=True)
class ConstraintUpdate:
    """A dependent's constraint on ``dependency`` that moves with its new version."""

    dependency: str
    new_version: str


@dataclass(frozen=True)
class PackageVersion:
    """The plan for one package.

    ``next`` equals ``current`` when there is nothing to release; ``bump`` says why it
    changes (``major``/``minor``/``patch``/``prerelease``/``set``/``dependency``) and
    ``reasons`` explains it in words; ``commits`` counts the commits since the last release.
    """

    name: str
    current: str | None
    next: str | None
    bump: str | None
    reasons: tuple[str, ...]
    commits: int
    last_tag: str | None
    tag: str | None = None
    pending: tuple[PackageCommit, ...] = field(default=(), repr=False, compare=False)
    constraint_updates: tuple[ConstraintUpdate, ...] = ()

    @property
    def changed(self) -> bool:
        return self.next is not None and self.next != self.current

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "current": self.current,
            "next": self.next,
            "bump": self.bump,
            "reasons": list(self.reasons),
            "commits": self.commits,
            "last_tag": self.last_tag,
            "tag": self.tag if self.changed else None,
            "constraint_updates": {u.dependency: u.new_version for u in self.constraint_updates},
        }


@dataclass(frozen=True)
class VersionPlan:
    """The next versions of the selected packages (dependents added), dependencies first."""

    packages: tuple[PackageVersion, ...]
    versioning: str
    settings: VersionSettings = field(repr=False, compare=False)
    # The pre-release channel of ``branch`` (None: final releases).
    channel: Channel | None = None
    branch: str | None = None
    # A merged release pull request: its versions are released as they are (tagged, not
    # bumped again); None: the versions are planned from the commits.
    merged: MergedRelease | None = None

    @property
    def releases(self) -> tuple[PackageVersion, ...]:
        return tuple(entry for entry in self.packages if entry.changed)

    @property
    def touched(self) -> tuple[PackageVersion, ...]:
        """Packages whose files change: new versions or moved constraints."""
        return tuple(e for e in self.packages if e.changed or e.constraint_updates)

    def get(self, name: str) -> PackageVersion | None:
        return next((entry for entry in self.packages if entry.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        channel = self.channel
        return {
            "versioning": self.versioning,
            "channel": None
            if channel is None
            else {
                "name": channel.name,
                "branch": self.branch,
                "pattern": channel.branch,
                "prerelease": channel.prerelease,
            },
            "packages": [entry.to_dict() for entry in self.packages],
            "merged": None
            if self.merged is None
            else {"commit": self.merged.commit, "plan": self.merged.digest},
        }


def commit_level(commit: PackageCommit, settings: VersionSettings) -> BumpLevel | None:
    """What one commit asks for under the bump rules (None: nothing)."""
    message = commit.message
    if not message.conventional or message.type is None:
        return None
    if message.breaking:
        return "major"
    # A commit-parser plugin decided the bump itself; bump-rules are for conventional types.
    level = (
        message.bump if isinstance(message, PluginCommit) else settings.bump_rules.get(message.type)
    )
    if level in ("major", "minor", "patch"):
        return level  # type: ignore[return-value]
    return None


def _level(commits: Sequence[PackageCommit], settings: VersionSettings) -> BumpLevel | None:
    return max_level([commit_level(commit, settings) for commit in commits])


def _reasons(commits: Sequence[PackageCommit], settings: VersionSettings) -> list[str]:
    breaking = features = fixes = other = ignored = 0
    for commit in commits:
        level = commit_level(commit, settings)
        if not commit.message.conventional:
            ignored += 1
        elif commit.message.breaking:
            breaking += 1
        elif level == "minor":
            features += 1
        elif level is not None:
            fixes += 1
        else:
            other += 1
    reasons = []
    for count, singular, plural in (
        (breaking, "breaking change", "breaking changes"),
        (features, "feature", "features"),
        (fixes, "fix", "fixes"),
    ):
        if count:
            reasons.append(f"{count} {singular if count == 1 else plural}")
    if other:
        reasons.append(f"{other} other conventional commit{'s' if other > 1 else ''} (no bump)")
    if ignored:
        reasons.append(f"{ignored} non-conventional commit{'s' if ignored > 1 else ''} ignored")
    return reasons


def _zero_rule(
    level: BumpLevel | None, current: str, settings: VersionSettings
) -> BumpLevel | None:
    if level == "major" and not settings.major_on_zero and current.split(".", 1)[0] in ("0", ""):
        return "minor"
    return level


def _own_version(
    package: Package,
    history: PackageHistory,
    request: BumpRequest,
    pre: PreToken | None,
    settings: VersionSettings,
    channel: Channel | None = None,
) -> PackageVersion:
    from poetflow.versioning.channels import continue_counter

    try:
        if channel is not None and request == "auto":
            entry = _on_channel(package, history, channel, settings)
        else:
            entry = _bumped(package, history, request, pre, settings)
        if entry.changed and entry.next is not None and is_prerelease(entry.next):
            known = [tag.version for tag in history.known]
            entry = replace(entry, next=continue_counter(entry.next, known, entry.current))
        return entry
    except ValueError as exc:
        raise MetadataError(
            f"{package.pyproject}: the version {package.version!r} of {package.name} cannot be "
            f"bumped ({exc}).",
            hint="Use a PEP 440 version with up to three numbers, e.g. 1.2.0 or 1.2.0rc1.",
        ) from exc


def _unchanged(package: Package, history: PackageHistory, reasons: list[str]) -> PackageVersion:
    return PackageVersion(
        name=package.name,
        current=package.version,
        next=package.version,
        bump=None,
        reasons=tuple(reasons),
        commits=len(history.pending),
        last_tag=history.last_tag.name if history.last_tag else None,
        pending=history.pending,
    )


def _on_channel(
    package: Package, history: PackageHistory, channel: Channel, settings: VersionSettings
) -> PackageVersion:
    """The next pre-release of ``package`` on ``channel`` (``auto``): released when the
    branch has release-worthy commits since its last release; the base version is what
    every commit since the last *final* release calls for."""
    from poetflow.versioning.channels import channel_prerelease

    current = package.version
    reasons = _reasons(history.pending, settings)
    base = _unchanged(package, history, reasons)
    if current is None or package.dynamic_version:
        return replace(base, reasons=(*reasons, "dynamic version: not managed by PoetFlow"))
    if _level(history.pending, settings) is None:
        return replace(base, reasons=(*reasons, "nothing to release"))
    # Usually the pending commits are among those since the last final release; not when
    # that final release arrived by merging main into the channel after its last
    # pre-release (main's fix is pending here, but older than the final tag's step).
    levels = [_level(history.since_final, settings), _level(history.pending, settings)]
    final_level = _zero_rule(max_level(levels), current, settings) or "patch"
    nxt = channel_prerelease(
        current,
        channel.prerelease,
        level=final_level,
        last_final=history.last_final.version if history.last_final else None,
        known=[tag.version for tag in history.known],
    )
    if compare_versions(nxt, current) <= 0:
        raise ConfigError(
            f"{channel.source}: on the {channel.describe()} {package.name} would go from "
            f"{current} down to {nxt}.",
            hint="Release it from a channel with a later label (a < b < rc) or as a final "
            "release from a branch without a channel.",
        )
    since = f" since {history.last_final.version}" if history.last_final else ""
    return replace(
        base,
        next=nxt,
        bump="prerelease",
        reasons=(*reasons, f"channel {channel.name} ({channel.prerelease}): {final_level}{since}"),
    )


def _bumped(
    package: Package,
    history: PackageHistory,
    request: BumpRequest,
    pre: PreToken | None,
    settings: VersionSettings,
) -> PackageVersion:
    current = package.version
    reasons = _reasons(history.pending, settings)
    base = _unchanged(package, history, reasons)
    if current is None or package.dynamic_version:
        return replace(base, reasons=(*reasons, "dynamic version: not managed by PoetFlow"))
    if request == "auto":
        level = _zero_rule(_level(history.pending, settings), current, settings)
        if level is None and pre is None and is_prerelease(current):
            # A pre-release whose commits are all tagged already (a channel merged into
            # this branch brings its rc tags along) graduates on what they call for.
            level = _zero_rule(_level(history.since_final, settings), current, settings)
            if level is not None:
                reasons = [*_reasons(history.since_final, settings), f"finishes {current}"]
                base = replace(base, reasons=tuple(reasons))
        if level is None:
            return replace(base, reasons=(*reasons, "nothing to release"))
        final_level = _zero_rule(_level(history.since_final, settings), current, settings)
        nxt = bump_version(
            current,
            level,
            pre=pre,
            last_final=history.last_final.version if history.last_final else None,
            final_level=final_level,
        )
        return replace(base, next=nxt, bump=level if pre is None else "prerelease")
    if request == "prerelease":
        return replace(base, next=bump_version(current, "prerelease", pre=pre), bump=request)
    nxt = bump_version(current, request, pre=pre)
    return replace(base, next=nxt, bump=request, reasons=(*reasons, f"{request} bump requested"))


def _check_request(request: str, pre: str | None) -> tuple[BumpRequest, PreToken | None]:
    if request not in _REQUESTS:
        raise UsageError(
            f"Unknown bump {request!r}.", hint="Use auto, major, minor, patch or prerelease."
        )
    if pre is not None and pre not in _PRE_TOKENS:
        raise UsageError(f"Unknown pre-release kind {pre!r}.", hint="Use --pre rc, a or b.")
    return request, pre  # type: ignore[return-value]


def plan_versions(
    workspace: Workspace,
    packages: Sequence[Package] | None = None,
    bump: str = "auto",
    pre: str | None = None,
    *,
    histories: Mapping[str, PackageHistory] | None = None,
    branch: str | None = None,
    merged: bool = False,
) -> VersionPlan:
    """The next version of ``packages`` (default: all) and of the dependents that follow.

    Reads git once (a shallow clone is refused with the fetch-depth hint); writes nothing.
    With ``[tool.poetflow.channels]``, ``branch`` (default: the current one, see
    :func:`~poetflow.versioning.channels.current_branch`) picks the pre-release channel.
    ``merged``: a merged release pull request (:mod:`poetflow.versioning.merged`) is the
    plan, its versions released as they are (``poetflow run``, ``plan``, ``release-pr``).
    """
    from poetflow.git import Repository
    from poetflow.versioning.channels import check_pre, current_branch, select_channel
    from poetflow.versioning.history import collect_histories
    from poetflow.versioning.settings import version_settings

    request, token = _check_request(bump, pre)
    settings = version_settings(workspace)
    selected = list(workspace.packages if packages is None else packages)
    repo = None
    if histories is None or (settings.channels and branch is None):
        repo = Repository.open(workspace.root)
    channel = None
    if settings.channels:
        if branch is None and repo is not None:
            branch = current_branch(repo)
        channel = select_channel(settings.channels, branch)
        if channel is not None and branch is not None:
            token = check_pre(channel, token, branch)
    if histories is None:
        assert repo is not None
        histories = collect_histories(repo, workspace, selected, settings)
    if merged and request == "auto" and pre is None:
        from poetflow.versioning.merged import find_merged_release

        landed = find_merged_release(
            repo or Repository.open(workspace.root), workspace, histories, settings.release_prefix
        )
        if landed is not None:
            plan = _finish(workspace, _merged_entries(selected, histories, landed), settings)
            return replace(plan, channel=channel, branch=branch, merged=landed)
    entries = {
        package.name: _own_version(
            package, histories[package.name], request, token, settings, channel
        )
        for package in selected
    }
    if settings.versioning == "synchronized":
        entries = _synchronize(workspace, entries, request, token, settings)
    label = channel.prerelease if channel is not None else None
    entries = _follow_dependents(workspace, entries, settings, label)
    return replace(_finish(workspace, entries, settings), channel=channel, branch=branch)


def _merged_entries(
    selected: Sequence[Package], histories: Mapping[str, PackageHistory], merged: MergedRelease
) -> dict[str, PackageVersion]:
    """A merged release pull request's versions, from the last tag to the work tree's
    version; every other package waits for the next release pull request."""
    entries = {}
    for package in selected:
        history = histories[package.name]
        version = merged.versions.get(package.name)
        if version is None:
            entries[package.name] = _unchanged(
                package, history, ["waits for the next release pull request"]
            )
            continue
        entries[package.name] = replace(
            _unchanged(package, history, []),
            current=history.last_tag.version if history.last_tag else None,
            next=version,
            bump="merged",
            reasons=(f"release pull request merged in {merged.commit[:7]}",),
        )
    return entries


def _synchronize(
    workspace: Workspace,
    entries: dict[str, PackageVersion],
    request: BumpRequest,
    pre: PreToken | None,
    settings: VersionSettings,
) -> dict[str, PackageVersion]:
    """One version for all: the highest current version moved by the highest bump."""
    managed = {n: e for n, e in entries.items() if e.current and e.next}
    changed = [e for e in managed.values() if e.changed]
    if not changed:
        return entries
    from packaging.version import Version

    target = max((e.next for e in changed if e.next), key=Version)
    level = max_level([e.bump for e in changed if e.bump in ("major", "minor", "patch")])  # type: ignore[misc]
    result = dict(entries)
    for name, entry in managed.items():
        if entry.next == target:
            continue
        reasons = (
            entry.reasons
            if entry.changed
            else (
                *(r for r in entry.reasons if r != "nothing to release"),
                f"synchronized versioning: every package moves to {target}",
            )
        )
        result[name] = replace(
            entry, next=target, bump=level or entry.bump or request, reasons=reasons
        )
    del pre, workspace
    return result


def _follow_dependents(
    workspace: Workspace,
    entries: dict[str, PackageVersion],
    settings: VersionSettings,
    pre: PreToken | None = None,
) -> dict[str, PackageVersion]:
    """Move dependents' constraints and, with dependents-bump = "patch", bump them too
    (to a ``pre`` pre-release on a channel)."""
    result = dict(entries)
    order = workspace.graph.order(strict=False)
    for name in order:
        entry = result.get(name)
        if entry is None or not entry.changed or entry.next is None:
            continue
        for dependent in workspace.packages:
            edge = next((dep for dep in dependent.dependencies if dep.name == name), None)
            if edge is None:
                continue
            dep_entry = result.get(dependent.name) or _untouched(dependent)
            if _must_move(dependent, name, entry.next, settings):
                updates = (*dep_entry.constraint_updates, ConstraintUpdate(name, entry.next))
                dep_entry = replace(dep_entry, constraint_updates=updates)
            reason = f"dependency {name} {entry.current} -> {entry.next}"
            if (
                edge.kind == "runtime"
                and settings.dependents_bump == "patch"
                and not dep_entry.changed
                and dep_entry.current is not None
                and not workspace.by_name[dependent.name].dynamic_version
            ):
                try:
                    nxt = bump_version(dep_entry.current, "patch", pre=pre)
                except ValueError as exc:
                    raise MetadataError(
                        f"{dependent.pyproject}: the version {dep_entry.current!r} of "
                        f"{dependent.name} cannot be bumped ({exc}).",
                        hint="Use a PEP 440 version with up to three numbers, e.g. 1.2.0.",
                    ) from exc
                reasons = tuple(r for r in dep_entry.reasons if r != "nothing to release")
                dep_entry = replace(
                    dep_entry, next=nxt, bump="dependency", reasons=(*reasons, reason)
                )
            elif edge.kind == "runtime" and dep_entry.changed:
                dep_entry = replace(dep_entry, reasons=(*dep_entry.reasons, reason))
            result[dependent.name] = dep_entry
    return result


def _must_move(
    dependent: Package, dependency: str, version: str, settings: VersionSettings
) -> bool:
    """Does any of ``dependent``'s ranges on ``dependency`` have to move for ``version``?
    (Under "preserve" only those that do not admit it; a path-only edge has none.)"""
    import copy

    from poetflow.versioning.edits import constraint_changes

    scratch = copy.deepcopy(dict(dependent.data))
    return bool(constraint_changes(scratch, {dependency: version}, settings.dependents_constraint))


def _untouched(package: Package) -> PackageVersion:
    return PackageVersion(
        name=package.name,
        current=package.version,
        next=package.version,
        bump=None,
        reasons=(),
        commits=0,
        last_tag=None,
    )


def ensure_not_downgrade(current: str | None, new: str, allow: bool, where: str) -> None:
    if current is not None and not allow and compare_versions(new, current) < 0:
        raise UsageError(
            f"{where}: {new} is lower than the current version {current}.",
            hint="Pass --allow-downgrade if you really mean to go back.",
        )


def plan_set_version(
    workspace: Workspace,
    packages: Sequence[Package],
    version: str,
    *,
    allow_downgrade: bool = False,
) -> VersionPlan:
    """``version set V``: ``packages`` get V (PEP 440, normalised); dependents follow."""
    from poetflow.versioning.settings import version_settings
    from poetflow.versioning.versions import parse_pep440

    parsed = parse_pep440(version)
    if parsed is None:
        raise UsageError(
            f"{version!r} is not a valid PEP 440 version.", hint="For example 1.4.0 or 2.0.0rc1."
        )
    settings = version_settings(workspace)
    if settings.versioning == "synchronized":
        packages = workspace.packages
    normalised = str(parsed)
    entries: dict[str, PackageVersion] = {}
    for package in packages:
        if package.version is None or package.dynamic_version:
            raise UsageError(
                f"{package.pyproject}: {package.name} has a dynamic version, "
                "which PoetFlow cannot set.",
                hint="Set the version where your dynamic-versioning tool reads it (git tags).",
            )
        ensure_not_downgrade(package.version, normalised, allow_downgrade, str(package.pyproject))
        entries[package.name] = replace(
            _untouched(package),
            next=normalised,
            bump="set" if normalised != package.version else None,
            reasons=(f"set to {normalised}",),
        )
    entries = _follow_dependents(workspace, entries, settings)
    return _finish(workspace, entries, settings)


def _finish(
    workspace: Workspace, entries: Mapping[str, PackageVersion], settings: VersionSettings
) -> VersionPlan:
    """Name the tag of every release and order the plan dependencies first."""
    planned = []
    for name in workspace.graph.order(list(entries), strict=False):
        entry = entries[name]
        if entry.changed and entry.next is not None:
            entry = replace(entry, tag=settings.tag_for(workspace.by_name[name], entry.next))
        planned.append(entry)
    return VersionPlan(tuple(planned), settings.versioning, settings)
