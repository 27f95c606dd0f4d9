"""The release commit's subject stays one short line however many packages a release has."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import git

from poetflow.versioning.plan import plan_versions
from poetflow.versioning.release import SUBJECT_PACKAGES, release_commit_message
from poetflow.workspace import load_workspace


def _message(repo: Path, *names: str) -> str:
    workspace = load_workspace(repo)
    selected = [p for p in workspace.packages if not names or p.name in names]
    return release_commit_message(plan_versions(workspace, selected, "auto"))


def test_a_few_releases_are_named_in_the_subject(demo_repo: Path) -> None:
    (demo_repo / "packages" / "http" / "NOTES.md").write_text("retries\n")
    git(demo_repo, "add", "-A")
    git(demo_repo, "commit", "-q", "-m", "feat(http): retries")
    subject, _, body = _message(demo_repo, "acme-http").partition("\n\n")
    assert subject == "chore(release): acme-http 0.5.0, acme-app 0.9.1"  # and its dependent
    assert body.splitlines() == ["- acme-http: 0.4.1 -> 0.5.0", "- acme-app: 0.9.0 -> 0.9.1"]


def test_many_releases_are_counted_and_listed_in_the_body(demo_repo: Path) -> None:
    (demo_repo / "packages" / "core" / "NOTES.md").write_text("rounding\n")
    git(demo_repo, "add", "-A")
    git(demo_repo, "commit", "-q", "-m", "fix(core): rounding")  # and its three dependents
    subject, _, body = _message(demo_repo).partition("\n\n")
    assert len(body.splitlines()) == 4 > SUBJECT_PACKAGES
    assert subject == "chore(release): 4 packages"
    assert "- acme-core: 1.2.0 -> 1.2.1" in body.splitlines()
