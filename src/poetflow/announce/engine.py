"""Announcing releases: for each release tag, its GitHub or GitLab release, made or updated.

The body is the changelog section of the tag's release, the files its packages' sdist
and wheel (and their Sigstore bundles when signed). A rerun finds each release by its tag
and changes only what differs, so ``poetflow announce`` is safe to retry.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from poetflow.errors import AnnounceError, ConfigError, PoetFlowError
from poetflow.masking import mask, secret_from_environment

if TYPE_CHECKING:
    from poetflow.hosting.model import HostProvider, ReleaseFile, ReleaseResult, ReleaseSpec
    from poetflow.versioning.plan import VersionPlan
    from poetflow.workspace import Package, Workspace

__all__ = [
    "AnnounceReport",
    "AnnouncedRelease",
    "announce_releases",
    "open_provider",
    "release_specs",
    "tagged_at_head",
]

_GITLAB_API = "https://gitlab.com/api/v4"


@dataclass(frozen=True)
class AnnouncedRelease:
    """One tag's release: the packages it holds and what publishing it did (or why not)."""

    tag: str
    packages: tuple[str, ...]
    result: ReleaseResult | None = None
    error: str | None = None
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, object]:
        return {
            "tag": self.tag,
            "packages": list(self.packages),
            **(self.result.to_dict() if self.result else {"status": "failed"}),
            "error": self.error,
            "duration": round(self.duration, 3),
        }


@dataclass(frozen=True)
class AnnounceReport:
    provider: str
    releases: tuple[AnnouncedRelease, ...] = field(default_factory=tuple)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return all(release.ok for release in self.releases)

    def to_dict(self) -> dict[str, object]:
        return {
            "provider": self.provider,
            "dry_run": self.dry_run,
            "releases": [release.to_dict() for release in self.releases],
        }


def _github_repository(workspace: Workspace, env: Mapping[str, str]) -> str | None:
    if env.get("GITHUB_REPOSITORY"):
        return env["GITHUB_REPOSITORY"]
    from poetflow.changelog.model import commit_url_base
    from poetflow.git import Repository

    links = commit_url_base(Repository.open(workspace.root).remote_url())
    if links is None or links[1] != "github":
        return None
    return "/".join(links[0].rstrip("/").split("/")[-2:])


def open_provider(workspace: Workspace, env: Mapping[str, str]) -> HostProvider | None:
    """The code host ``[tool.poetflow.announce] provider`` names (None: none), with its
    credential from the environment (registered as a secret). A host named explicitly
    without its token or project is bad input (exit 2), found before anything runs."""
    from poetflow.ci.registry import detect_system

    settings = workspace.config.announce
    where = workspace.config.where
    provider = settings.provider
    github_token = secret_from_environment(env, "GITHUB_TOKEN")
    gitlab_token = secret_from_environment(env, "GITLAB_TOKEN")
    job_token = secret_from_environment(env, "CI_JOB_TOKEN")
    if provider == "none":
        return None
    if provider == "auto":
        system = detect_system(env).name
        if system == "github" and github_token:
            provider = "github"
        elif system == "gitlab" and (gitlab_token or job_token):
            provider = "gitlab"
        else:
            return None
    if provider == "github":
        from poetflow.hosting.github import DEFAULT_API_URL, GitHubClient

        if not github_token:
            raise AnnounceError(
                f'{where}: [tool.poetflow.announce] provider = "github" needs a token in '
                "GITHUB_TOKEN (or GITHUB_TOKEN_FILE).",
                hint="In GitHub Actions pass `GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}` with "
                "`permissions: contents: write` (docs/ci.md).",
            )
        repository = _github_repository(workspace, env)
        if not repository:
            raise AnnounceError(
                "No GitHub repository to announce on: GITHUB_REPOSITORY is not set and the "
                "origin remote is not on GitHub.",
                hint="Set GITHUB_REPOSITORY=owner/name.",
            )
        api = env.get("GITHUB_API_URL") or DEFAULT_API_URL
        return GitHubClient(api, repository, github_token)
    from poetflow.hosting.gitlab import GitLabClient

    if settings.draft:
        raise ConfigError(
            f"{where}: tool.poetflow.announce.draft = true, but GitLab releases have no drafts.",
            hint="Remove draft, or announce on GitHub.",
        )
    token = gitlab_token or job_token
    if not token:
        raise AnnounceError(
            f'{where}: [tool.poetflow.announce] provider = "gitlab" needs a token in '
            "GITLAB_TOKEN or CI_JOB_TOKEN.",
            hint="GitLab CI sets CI_JOB_TOKEN in every job; elsewhere set GITLAB_TOKEN to a "
            "project access token with the api scope (docs/ci.md).",
        )
    project = env.get("CI_PROJECT_ID") or env.get("CI_PROJECT_PATH")
    if not project:
        raise AnnounceError(
            "No GitLab project to announce on: CI_PROJECT_ID is not set.",
            hint="Set CI_PROJECT_ID to the project's number or its path (group/name).",
        )
    api = env.get("CI_API_V4_URL") or _GITLAB_API
    return GitLabClient(api, project, token, "private" if gitlab_token else "job")


def tagged_at_head(
    workspace: Workspace, packages: Sequence[Package], *, at_head: bool
) -> list[str]:
    """The release tags of ``packages``' current versions that exist (``at_head``: that
    point at HEAD), in order, each once (a synchronized tag is shared)."""
    from poetflow.git import Repository

    repo = Repository.open(workspace.root)
    if not repo.has_commits:
        return []
    tags = {tag.name: tag.commit for tag in repo.tags()}
    head = repo.head_id()
    found: dict[str, None] = {}
    for package in packages:
        if not package.version:
            continue
        tag = workspace.config.version.tag_for(package, package.version)
        if tag in tags and (not at_head or tags[tag] == head):
            found[tag] = None
    return list(found)


def _files(
    workspace: Workspace,
    packages: Sequence[Package],
    artifacts: Mapping[str, Sequence[Path]],
    *,
    dry_run: bool,
) -> list[ReleaseFile]:
    from poetflow.distributions import find_distributions
    from poetflow.hosting.model import ReleaseFile
    from poetflow.signing.artifacts import bundle_path

    files: list[ReleaseFile] = []
    missing = []
    for package in packages:
        version = str(package.version)
        built = [Path(p) for p in artifacts.get(package.name, ())]
        if not built:
            built = [
                d.path for d in find_distributions(package.path / "dist", package.name, version)
            ]
        built = [path for path in built if path.is_file()]
        if not built:
            missing.append(f"{package.name} {version} ({package.relpath}/dist)")
            continue
        for path in built:
            for item in (path, bundle_path(path)):
                if item.is_file():
                    files.append(ReleaseFile(item, package.name, version, _sha256(item)))
    # A dry run of `run` builds nothing: the release would get the files the build makes.
    if missing and not dry_run:
        raise AnnounceError(
            f"No built sdist or wheel to attach for {', '.join(missing)}.",
            hint="Run `poetflow build` first (or announce from the job that built them).",
        )
    return files


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def release_specs(
    workspace: Workspace,
    tags: Sequence[str],
    *,
    plan: VersionPlan | None = None,
    artifacts: Mapping[str, Sequence[Path]] | None = None,
    dry_run: bool = False,
) -> list[tuple[ReleaseSpec, tuple[str, ...]]]:
    """Each tag's release as it should be, with the packages it holds. A tag no member's
    current version makes (``plan``: its next version) is refused, naming it."""
    from packaging.version import InvalidVersion, Version

    from poetflow.changelog.engine import tag_notes
    from poetflow.git import Repository
    from poetflow.hosting.model import ReleaseSpec

    settings = workspace.config.announce
    planned = {entry.name: entry.next for entry in plan.releases} if plan is not None else {}
    notes = tag_notes(workspace, tags, plan=plan)
    commits = {tag.name: tag.commit for tag in Repository.open(workspace.root).tags()}
    specs = []
    for tag in tags:
        members = []
        for package in workspace.packages:
            version = planned.get(package.name) or package.version
            if version and workspace.config.version.tag_for(package, str(version)) == tag:
                members.append(package)
        if tag not in commits and plan is None:
            raise AnnounceError(
                f"The tag {tag} does not exist in {workspace.root}: a host would make it at "
                "its default branch.",
                hint="Tag the release first (`poetflow run --push`, or `poetflow version bump "
                "--tag --push`).",
            )
        if not members:
            raise AnnounceError(
                f"The tag {tag} is not the release tag of any package's current version.",
                hint="Announce the tags of the current versions (`git tag --points-at HEAD`).",
            )
        version = str(planned.get(members[0].name) or members[0].version)
        try:
            prerelease = Version(version).is_prerelease
        except InvalidVersion:
            prerelease = False
        files = _files(workspace, members, artifacts or {}, dry_run=dry_run)
        specs.append(
            (
                ReleaseSpec(
                    tag=tag,
                    name=tag,
                    body=notes.get(tag, ""),
                    files=tuple(files),
                    draft=settings.draft,
                    prerelease=prerelease or settings.prerelease,
                    commit=commits.get(tag),
                ),
                tuple(p.name for p in members),
            )
        )
    return specs


def announce_releases(
    provider: HostProvider,
    specs: Sequence[tuple[ReleaseSpec, tuple[str, ...]]],
    *,
    dry_run: bool = False,
) -> AnnounceReport:
    """Publish each release; one that fails does not stop the others (they are
    independent), and the report names it."""
    done = []
    for spec, packages in specs:
        started = time.monotonic()
        try:
            result = provider.publish_release(spec, dry_run=dry_run)
        except PoetFlowError as exc:
            if exc.exit_code == 2:
                raise
            done.append(
                AnnouncedRelease(spec.tag, packages, error=mask(str(exc)),
                                 duration=time.monotonic() - started)
            )  # fmt: skip
            continue
        done.append(AnnouncedRelease(spec.tag, packages, result, None, time.monotonic() - started))
    return AnnounceReport(provider.name, tuple(done), dry_run)
