"""A merged release pull request: its commit found on the mainline, its versions tagged as they are.

``poetflow release-pr`` commits the release plan on a branch with a ``Release-Plan: <digest>``
trailer. Once that branch is merged (a merge commit, a squash, a rebase), the versions in
the work tree are ahead of the last release tags and a mainline commit since those tags
carries the trailer (a squash keeps the commit messages, a merge brings the commit in).
``poetflow run`` then releases exactly those versions: it writes nothing and bumps nothing,
it tags the commit that landed them, builds and publishes.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from poetflow.git import Repository
    from poetflow.versioning.history import PackageHistory
    from poetflow.versioning.journal import JournalTag
    from poetflow.versioning.plan import VersionPlan
    from poetflow.workspace import Workspace

__all__ = [
    "PLAN_TRAILER",
    "MergedRelease",
    "find_merged_release",
    "merged_tags",
    "plan_digest",
    "tag_merged_release",
]

logger = logging.getLogger(__name__)

PLAN_TRAILER = "Release-Plan"
# Indented and bulleted too: `git merge --squash` indents the squashed messages, GitHub's
# squash message lists them as "* subject".
_TRAILER_RE = re.compile(
    rf"^[ \t*-]*{PLAN_TRAILER}:[ \t]*(?P<digest>[0-9a-f]{{8,64}})[ \t]*$", re.MULTILINE
)
# How far back a merged release is looked for: it lands on the push that runs `run`.
_SEARCH_LIMIT = 200


def plan_digest(versions: Mapping[str, str]) -> str:
    """A short digest of the releases ``name -> version`` (the trailer's value)."""
    text = "".join(f"{name}=={versions[name]}\n" for name in sorted(versions))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class MergedRelease:
    """A release pull request that landed: ``commit`` is the mainline commit that brought
    it (the merge or squash commit), ``versions`` what is ahead of the last tags."""

    commit: str
    digest: str
    versions: Mapping[str, str] = field(default_factory=dict)

    @property
    def matches(self) -> bool:
        """The versions are the ones the pull request planned (not edited in review)."""
        return plan_digest(self.versions) == self.digest


def _ahead(workspace: Workspace, histories: Mapping[str, PackageHistory]) -> dict[str, str]:
    """Packages whose version in the work tree has no tag and is above their last tag."""
    from poetflow.versioning.versions import compare_versions

    ahead = {}
    for name, history in histories.items():
        package = workspace.by_name[name]
        version = package.version
        if version is None or package.dynamic_version:
            continue
        if any(tag.version == version for tag in history.known):
            continue
        last = history.last_tag
        try:
            if last is not None and compare_versions(version, last.version) <= 0:
                continue
        except ValueError:
            continue
        ahead[name] = version
    return ahead


def find_merged_release(
    repo: Repository,
    workspace: Workspace,
    histories: Mapping[str, PackageHistory],
    release_prefix: str = "",
) -> MergedRelease | None:
    """The merged release pull request that HEAD holds and no tag marks yet, or None.

    Both signs are needed: versions ahead of the last tags alone could be a hand edit, and
    a trailer alone an old release that is tagged already. A squash whose message is only
    the pull request's title (a GitHub setting) lost the trailer; its subject still starts
    with ``release_prefix`` (the release commit's subject is the title), which counts too.
    """
    ahead = _ahead(workspace, histories)
    if not ahead:
        return None
    stops = {h.last_tag.commit for h in histories.values() if h.last_tag is not None}
    for number, step in enumerate(repo.mainline(watch=())):
        if number >= _SEARCH_LIMIT:
            break
        # A tagged commit is an earlier release: its release subject says nothing about the
        # versions ahead now (its trailer still does: a merged release tagged half-way).
        tagged = any(record.id in stops for record in step.introduced)
        for record in step.introduced:
            match = _TRAILER_RE.search(record.message)
            titled = bool(release_prefix) and record.message.startswith(release_prefix)
            if match is not None or (titled and not tagged):
                merged = MergedRelease(step.id, match["digest"] if match else "", ahead)
                if merged.digest and not merged.matches:
                    logger.warning(
                        "The release pull request merged in %s planned %s, but the versions "
                        "ahead of their tags are %s (edited in review?); releasing those.",
                        step.id[:7],
                        merged.digest,
                        ", ".join(f"{n} {v}" for n, v in sorted(ahead.items())),
                    )
                return merged
        if tagged:
            break
    return None


def merged_tags(workspace: Workspace, plan: VersionPlan) -> tuple[JournalTag, ...]:
    """The annotated tags of a merged release, the changelog sections as their messages."""
    from poetflow.changelog.engine import tag_notes
    from poetflow.versioning.journal import JournalTag
    from poetflow.versioning.release import release_tags

    names = list(release_tags(plan))
    notes = tag_notes(workspace, names, plan=plan)
    return tuple(JournalTag(name, notes.get(name) or name) for name in names)


def tag_merged_release(
    repo: Repository, workspace: Workspace, plan: VersionPlan, tags: tuple[JournalTag, ...]
) -> list[str]:
    """Tag the commit that landed the merged release; a tag there already is kept (a rerun
    after a failed upload), one elsewhere is refused by :func:`validate` beforehand."""
    assert plan.merged is not None
    made = []
    for tag in tags:
        if repo.tag_commit(tag.name) == plan.merged.commit:
            made.append(tag.name)
            continue
        repo.create_tag(tag.name, tag.message or tag.name, plan.merged.commit)
        made.append(tag.name)
    return made
