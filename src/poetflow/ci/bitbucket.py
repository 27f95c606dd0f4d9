"""Bitbucket Pipelines: the report and the JUnit XML where its test reporter looks.

Bitbucket has no workflow commands: no step outputs, no runtime masking (secured
variables are masked by Bitbucket itself), no annotations. Its test reporter scans the
clone directory for ``**/test-results/**/*.xml`` (and ``test-reports``, ``surefire-reports``,
... up to three folders deep), so the hand-over copies the JUnit XML to
``test-results/poetflow/`` and writes the run report and its summary next to it, for a
step's ``artifacts:``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, TextIO

from poetflow.ci.system import CiFacts, CiTemplates, HandOver, path_from

__all__ = ["RESULTS_DIR", "BitbucketPipelines"]

RESULTS_DIR = Path("test-results") / "poetflow"


@dataclass(frozen=True)
class BitbucketPipelines(CiFacts):
    """Bitbucket Pipelines (``BITBUCKET_BUILD_NUMBER``): files in the clone directory."""

    name: ClassVar[str] = "bitbucket"
    title: ClassVar[str] = "Bitbucket Pipelines"
    templates: ClassVar[CiTemplates | None] = CiTemplates("bitbucket")

    @classmethod
    def detect(cls, env: Mapping[str, str]) -> BitbucketPipelines | None:
        if not env.get("BITBUCKET_BUILD_NUMBER"):
            return None
        run_url = None
        if env.get("BITBUCKET_REPO_FULL_NAME"):
            run_url = (
                f"https://bitbucket.org/{env['BITBUCKET_REPO_FULL_NAME']}/pipelines/results/"
                f"{env['BITBUCKET_BUILD_NUMBER']}"
            )
        return cls(
            workspace=path_from(env, "BITBUCKET_CLONE_DIR"),
            run_url=run_url,
            ref=env.get("BITBUCKET_BRANCH") or env.get("BITBUCKET_TAG"),
            sha=env.get("BITBUCKET_COMMIT"),
        )

    def results_dir(self) -> Path:
        """``test-results/poetflow/`` in the clone directory (the build's base directory)."""
        return (self.workspace or Path.cwd()) / RESULTS_DIR

    def hand_over(self, handover: HandOver, stream: TextIO) -> None:
        """The report, its summary and the JUnit XML in :meth:`results_dir`; the clone
        directory is the repository, so a dry run writes nothing."""
        if handover.dry_run:
            return
        from poetflow.files import atomic_copy
        from poetflow.report import write_report

        target = self.results_dir()
        write_report(handover.report, target)
        for junit in handover.report.junit:
            source = Path(junit)
            if source.is_file() and source.resolve().parent != target.resolve():
                atomic_copy(source, target / source.name)
