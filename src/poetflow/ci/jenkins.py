"""Jenkins: the run's facts in the report; the Jenkinsfile archives the report itself.

Jenkins has no runtime masking command: credentials bound with ``withCredentials`` or
``credentials()`` are masked by Jenkins, and PoetFlow masks its own output.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from poetflow.ci.system import CiFacts, CiTemplates, path_from

__all__ = ["Jenkins"]


@dataclass(frozen=True)
class Jenkins(CiFacts):
    """Jenkins (``JENKINS_URL`` or ``JENKINS_HOME``): nothing to hand over at run time."""

    name: ClassVar[str] = "jenkins"
    title: ClassVar[str] = "Jenkins"
    templates: ClassVar[CiTemplates | None] = CiTemplates("jenkins")

    @classmethod
    def detect(cls, env: Mapping[str, str]) -> Jenkins | None:
        if not (env.get("JENKINS_URL") or env.get("JENKINS_HOME")):
            return None
        return cls(
            workspace=path_from(env, "WORKSPACE"),
            run_url=env.get("BUILD_URL"),
            ref=env.get("BRANCH_NAME") or env.get("GIT_BRANCH"),
            sha=env.get("GIT_COMMIT"),
        )
