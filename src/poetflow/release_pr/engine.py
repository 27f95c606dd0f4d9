"""``poetflow release-pr``: the release plan as one pull / merge request, kept up to date.

The plan is computed like ``poetflow run`` computes it and written like a release writes it
(versions, constraints, locks, version files, changelogs), but into one commit on a branch
of its own (``poetflow/release``) instead of the work tree: HEAD, the index and the work
tree stay as they are. The branch is force-pushed and one pull request (GitHub) or merge
request (GitLab) from it is opened, or updated when it is open already; with nothing to
release an open one is closed with a comment. The commit carries a ``Release-Plan:``
trailer, so that ``poetflow run`` on the merged result tags and publishes those versions
instead of bumping them again (:mod:`poetflow.versioning.merged`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from poetflow.errors import ReleasePrError

if TYPE_CHECKING:
    from poetflow.changelog.model import PackageChangelog
    from poetflow.git import Repository
    from poetflow.hosting.model import ReviewHost
    from poetflow.versioning.plan import VersionPlan
    from poetflow.workspace import Package, Workspace

__all__ = [
    "DEFAULT_BRANCH",
    "ReleasePrOptions",
    "ReleasePrReport",
    "open_review_host",
    "release_pr",
    "review_body",
]

DEFAULT_BRANCH = "poetflow/release"
ReviewAction = Literal[
    "created",
    "updated",
    "up to date",
    "closed",
    "nothing to do",
    "would create",
    "would update",
    "would close",
]
# GitHub refuses a pull request body over 65536 characters, GitLab a description over
# 1 MB; the changelog excerpts are cut well before that.
_BODY_LIMIT = 60_000


@dataclass(frozen=True)
class ReleasePrOptions:
    """``branch`` holds the release commit; ``base`` is where it merges (None: the branch
    the command runs on)."""

    branch: str = DEFAULT_BRANCH
    base: str | None = None
    dry_run: bool = False
    remote: str = "origin"


@dataclass(frozen=True)
class ReleasePrReport:
    """What ``release-pr`` did: the request's fate, its number and URL, the releases."""

    provider: str
    branch: str
    base: str
    action: ReviewAction
    releases: tuple[tuple[str, str | None, str], ...] = ()
    number: int | None = None
    url: str | None = None
    title: str = ""
    commit: str | None = None
    plan: str | None = None
    pushed: bool = False
    dry_run: bool = False
    files: tuple[Path, ...] = field(default=(), repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "branch": self.branch,
            "base": self.base,
            "action": self.action,
            "number": self.number,
            "url": self.url,
            "title": self.title,
            "commit": self.commit,
            "plan": self.plan,
            "pushed": self.pushed,
            "dry_run": self.dry_run,
            "releases": [
                {"name": name, "current": current, "next": nxt}
                for name, current, nxt in self.releases
            ],
            "files": [str(path) for path in self.files],
        }


def open_review_host(workspace: Workspace, env: Mapping[str, str]) -> ReviewHost:
    """The code host of the announce settings (same tokens, API URLs and masking); a
    release pull request needs one, so none is bad input (exit 2)."""
    from poetflow.announce.engine import open_provider

    provider = open_provider(workspace, env)
    if provider is None:
        raise ReleasePrError(
            f"{workspace.config.where}: no code host to open the release pull request on.",
            hint="Run it in GitHub Actions with GITHUB_TOKEN or in GitLab CI with GITLAB_TOKEN, "
            'or set [tool.poetflow.announce] provider = "github" / "gitlab" and its token.',
        )
    from poetflow.hosting.gitlab import GitLabClient

    if isinstance(provider, GitLabClient) and provider.token_kind == "job":
        provider.close()
        raise ReleasePrError(
            "GitLab's CI_JOB_TOKEN may not write merge requests, and GITLAB_TOKEN is not set.",
            hint="Set GITLAB_TOKEN (a masked CI/CD variable) to a project access token with "
            "the api and write_repository scopes (docs/ci.md).",
        )
    host: ReviewHost = provider  # type: ignore[assignment]
    return host


def _base_branch(repo: Repository, options: ReleasePrOptions, env: Mapping[str, str]) -> str:
    if options.base:
        return options.base
    # GitLab CI checks out a detached HEAD; both CIs name the branch of the push.
    name = repo.current_branch() or env.get("CI_COMMIT_BRANCH") or env.get("GITHUB_REF_NAME")
    if not name:
        raise ReleasePrError(
            f"{repo.workdir} is on a detached HEAD, so the release pull request has no base.",
            hint="Pass --base main (or check out the branch the release merges into).",
        )
    return name


def _title(plan: VersionPlan) -> str:
    versions = ", ".join(f"{e.name} {e.next}" for e in plan.releases)
    return plan.settings.commit_message.format(versions=versions)


def review_body(plan: VersionPlan, changelogs: Mapping[str, PackageChangelog], digest: str) -> str:
    """The plan in Markdown: each release (old -> new, why), its changelog excerpt, the
    trailer that lets ``poetflow run`` recognise the merge."""
    from poetflow.changelog.engine import release_notes
    from poetflow.versioning.merged import PLAN_TRAILER

    lines = [
        "This pull request holds the next release: versions, dependency constraints, "
        "locks and changelogs. Merging it makes `poetflow run` tag and publish exactly "
        "these versions.",
        "",
        "| package | version | why |",
        "| --- | --- | --- |",
    ]
    for entry in plan.releases:
        why = "; ".join(entry.reasons) or entry.bump or ""
        lines.append(f"| {entry.name} | {entry.current or '-'} → {entry.next} | {why} |")
    moved = [e for e in plan.touched if not e.changed]
    for entry in moved:
        deps = ", ".join(f"{u.dependency} {u.new_version}" for u in entry.constraint_updates)
        lines.append(f"| {entry.name} | {entry.current} (unchanged) | constraints on {deps} |")
    excerpts = []
    for entry in plan.releases:
        changelog = changelogs.get(entry.name)
        notes = release_notes(changelog).strip() if changelog is not None else ""
        if notes:
            excerpts += ["", f"<details><summary>{entry.name} {entry.next}</summary>", ""]
            excerpts += [notes.replace("\n# ", "\n### "), "", "</details>"]
    text = "\n".join(lines + (["", "## Changelogs", *excerpts] if excerpts else []))
    if len(text) > _BODY_LIMIT:
        text = text[:_BODY_LIMIT].rsplit("\n", 1)[0] + "\n\n(changelogs cut; see the files)"
    return f"{text}\n\n{PLAN_TRAILER}: {digest}\n"


def _relative(repo: Repository, path: Path) -> str:
    return Path(os.path.realpath(path)).relative_to(repo.workdir).as_posix()


def release_pr(
    workspace: Workspace,
    selected: Sequence[Package] | None,
    options: ReleasePrOptions,
    env: Mapping[str, str],
) -> ReleasePrReport:
    """Open, update or close the release pull request of ``selected`` (None: every
    package with something to release). A dry run pushes nothing and only reads the API."""
    from poetflow.git import Repository
    from poetflow.versioning.merged import PLAN_TRAILER, plan_digest
    from poetflow.versioning.plan import plan_versions
    from poetflow.versioning.release import prepare_release

    repo = Repository.open(workspace.root)
    # The plan first: a repository without history says so, not "detached HEAD".
    plan = plan_versions(workspace, selected, "auto", merged=True)
    base = _base_branch(repo, options, env)
    if base == options.branch:
        raise ReleasePrError(
            f"release-pr runs on the branch the release merges into, not on {options.branch}.",
            hint="Check out main (or pass --base) and run it again.",
        )
    if repo.remote_url(options.remote) is None:
        # Checked in a dry run too: the real run would stop at the push.
        raise ReleasePrError(
            f"{repo.workdir} has no remote {options.remote!r} to push the release branch to.",
            hint=f"Add it with `git remote add {options.remote} URL`.",
        )
    # Fail on a bad plan (a tag that exists, a file outside the root) before any API call.
    prepared = None
    if plan.merged is None and plan.releases:
        prepared = prepare_release(
            workspace, plan, changelog=True, commit=True, tag=False, keep_written=False, repo=repo
        )
    host = open_review_host(workspace, env)
    try:
        existing = host.find_review(options.branch)
        if prepared is None:
            return _close(host, existing, plan, options, base)
        digest = plan_digest({e.name: e.next for e in plan.releases if e.next is not None})
        message = (prepared.planned.commit_message or _title(plan)).rstrip("\n")
        message += f"\n\n{PLAN_TRAILER}: {digest}\n"
        title = _title(plan)
        body = review_body(plan, prepared.changelogs, digest)
        releases = tuple((e.name, e.current, e.next or "") for e in plan.releases)
        report = ReleasePrReport(
            host.name,
            options.branch,
            base,
            "would update" if existing is not None else "would create",
            releases,
            existing.number if existing else None,
            existing.url if existing else None,
            title,
            None,
            digest,
            False,
            options.dry_run,
            prepared.files,
        )
        if options.dry_run:
            return report
        files = {_relative(repo, e.path): e.new.encode("utf-8") for e in prepared.planned.edits}
        # A rerun with nothing new keeps the branch's commit, so the push changes nothing.
        commit, _new = repo.commit_to_branch(files, message, options.branch)
        ref = f"refs/heads/{options.branch}"
        repo.push([f"+{ref}:{ref}"], remote=options.remote)
        if existing is None:
            made = host.open_review(options.branch, base, title, body)
            action: ReviewAction = "created"
        elif existing.title != title or existing.body != body:
            made = host.update_review(existing, title, body)
            action = "updated"
        else:
            made, action = existing, "up to date"
        return ReleasePrReport(
            host.name,
            options.branch,
            base,
            action,
            releases,
            made.number,
            made.url,
            title,
            commit,
            digest,
            True,
            False,
            prepared.files,
        )
    finally:
        host.close()


def _close(
    host: ReviewHost,
    existing: Any,
    plan: VersionPlan,
    options: ReleasePrOptions,
    base: str,
) -> ReleasePrReport:
    """Nothing to release (or a merged release waiting for ``poetflow run``): an open
    release pull request is closed with a comment saying why."""
    if existing is None:
        return ReleasePrReport(
            host.name, options.branch, base, "nothing to do", dry_run=options.dry_run
        )
    if plan.merged is not None:
        why = (
            f"The release merged in {plan.merged.commit[:7]} is not tagged yet; "
            "`poetflow run` releases it first."
        )
    else:
        why = "Nothing to release any more: no package has release-worthy commits."
    comment = f"{why} Closed by `poetflow release-pr`; the next release opens a new one."
    if options.dry_run:
        return ReleasePrReport(
            host.name, options.branch, base, "would close", number=existing.number,
            url=existing.url, dry_run=True,
        )  # fmt: skip
    closed = host.close_review(existing, comment)
    return ReleasePrReport(
        host.name, options.branch, base, "closed", number=closed.number, url=closed.url
    )
