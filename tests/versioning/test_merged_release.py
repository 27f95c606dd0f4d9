"""A merged release pull request is recognised only by both signs: the Release-Plan trailer
on the mainline since the last tags, and versions ahead of those tags."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import git

from poetflow.versioning.merged import plan_digest
from poetflow.versioning.plan import plan_versions
from poetflow.workspace import load_workspace

CORE = Path("packages/core/pyproject.toml")


def _set_core(root: Path, version: str) -> None:
    path = root / CORE
    text = re.sub(r'^version = "[^"]+"', f'version = "{version}"', path.read_text(), count=1,
                  flags=re.M)  # fmt: skip
    path.write_text(text)


def _tag_everything(root: Path) -> None:
    for package in load_workspace(root).packages:
        git(root, "tag", f"{package.name}-v{package.version}")


def test_versions_ahead_without_the_trailer_are_planned_as_usual(demo_repo: Path) -> None:
    _tag_everything(demo_repo)
    _set_core(demo_repo, "1.9.0")
    git(demo_repo, "commit", "-qam", "feat(core): a hand edit of the version")
    plan = plan_versions(load_workspace(demo_repo), merged=True)
    assert plan.merged is None
    assert plan.get("acme-core").next == "1.10.0"  # type: ignore[union-attr]


def test_the_trailer_with_versions_ahead_is_the_merged_release(demo_repo: Path) -> None:
    _tag_everything(demo_repo)
    before = load_workspace(demo_repo).by_name["acme-core"].version
    _set_core(demo_repo, "1.9.0")
    digest = plan_digest({"acme-core": "1.9.0"})
    git(demo_repo, "commit", "-qam", f"chore(release): acme-core 1.9.0\n\nRelease-Plan: {digest}")
    git(demo_repo, "commit", "-q", "--allow-empty", "-m", "docs: after the merge")
    head = git(demo_repo, "rev-parse", "HEAD~1")

    plan = plan_versions(load_workspace(demo_repo), merged=True)
    assert plan.merged is not None
    assert plan.merged.commit == head
    assert plan.merged.matches
    assert [(e.name, e.current, e.next, e.bump) for e in plan.releases] == [
        ("acme-core", before, "1.9.0", "merged")
    ]
    assert plan.get("acme-core").tag == "acme-core-v1.9.0"  # type: ignore[union-attr]
    # `version bump` does not look for it: it plans from the commits.
    assert plan_versions(load_workspace(demo_repo)).merged is None

    # Tagged, it is history: the next plan starts from the tag.
    git(demo_repo, "tag", "acme-core-v1.9.0", head)
    assert plan_versions(load_workspace(demo_repo), merged=True).merged is None


def test_a_squash_with_only_the_title_is_recognised_by_its_release_subject(
    demo_repo: Path,
) -> None:
    _tag_everything(demo_repo)
    _set_core(demo_repo, "1.9.0")
    git(demo_repo, "commit", "-qam", "chore(release): acme-core 1.9.0 (#3)")
    plan = plan_versions(load_workspace(demo_repo), merged=True)
    assert plan.merged is not None
    assert [(e.name, e.next) for e in plan.releases] == [("acme-core", "1.9.0")]


def test_an_earlier_tagged_release_commit_does_not_make_a_hand_edit_a_release(
    demo_repo: Path,
) -> None:
    git(demo_repo, "commit", "-q", "--allow-empty", "-m", "chore(release): everything")
    _tag_everything(demo_repo)
    _set_core(demo_repo, "1.9.0")
    git(demo_repo, "commit", "-qam", "feat(core): a hand edit of the version")
    assert plan_versions(load_workspace(demo_repo), merged=True).merged is None
