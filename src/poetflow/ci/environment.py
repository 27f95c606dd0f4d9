"""Which CI system runs PoetFlow (GitHub Actions, GitLab CI, Jenkins or none) and its settings."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["CiEnvironment", "CiKind", "detect_environment"]

CiKind = Literal["github", "gitlab", "jenkins", "local"]


@dataclass(frozen=True)
class CiEnvironment:
    """The CI system and what PoetFlow reads from it; ``local`` when none is detected."""

    kind: CiKind
    workspace: Path | None = None
    run_url: str | None = None
    ref: str | None = None
    sha: str | None = None
    output_file: Path | None = None
    summary_file: Path | None = None

    @property
    def is_ci(self) -> bool:
        return self.kind != "local"

    def report_fields(self) -> dict[str, str]:
        """What the run report records about the CI run (only the values that are known)."""
        values = {"system": self.kind, "run_url": self.run_url, "ref": self.ref, "sha": self.sha}
        return {key: value for key, value in values.items() if value}


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def detect_environment(env: Mapping[str, str] | None = None) -> CiEnvironment:
    """Detect the CI system from its documented variables."""
    env = os.environ if env is None else env
    if env.get("GITHUB_ACTIONS") == "true":
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        run_url = None
        if env.get("GITHUB_REPOSITORY") and env.get("GITHUB_RUN_ID"):
            run_url = f"{server}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"
        return CiEnvironment(
            kind="github",
            workspace=_path(env.get("GITHUB_WORKSPACE")),
            run_url=run_url,
            ref=env.get("GITHUB_REF_NAME") or env.get("GITHUB_REF"),
            sha=env.get("GITHUB_SHA"),
            output_file=_path(env.get("GITHUB_OUTPUT")),
            summary_file=_path(env.get("GITHUB_STEP_SUMMARY")),
        )
    if env.get("GITLAB_CI") == "true":
        return CiEnvironment(
            kind="gitlab",
            workspace=_path(env.get("CI_PROJECT_DIR")),
            run_url=env.get("CI_JOB_URL") or env.get("CI_PIPELINE_URL"),
            ref=env.get("CI_COMMIT_REF_NAME"),
            sha=env.get("CI_COMMIT_SHA"),
        )
    if env.get("JENKINS_URL") or env.get("JENKINS_HOME"):
        return CiEnvironment(
            kind="jenkins",
            workspace=_path(env.get("WORKSPACE")),
            run_url=env.get("BUILD_URL"),
            ref=env.get("BRANCH_NAME") or env.get("GIT_BRANCH"),
            sha=env.get("GIT_COMMIT"),
        )
    return CiEnvironment(kind="local")
