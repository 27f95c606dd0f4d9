"""The stage registry: every pipeline stage, in pipeline order, with what is derived from it.

Stage choice (``--stages``/``--skip``, ``[tool.poetflow.pipeline]``), ``poetflow plan``, the
hook names (``pre-<stage>``/``post-<stage>``) and the help text all read :data:`STAGES`.
Adding a stage is one module in this package and one line here. The registry is plain
data: a stage's module is imported only when the stage runs, so reading it costs nothing.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from poetflow.pipeline.runner import Stage

__all__ = ["HOOK_STAGES", "STAGES", "STAGE_NAMES", "StageSpec", "create_stage", "stage_spec"]


@dataclass(frozen=True)
class StageSpec:
    """One stage: its name, a line of help, where its class lives, the hooks around it.

    ``hooks`` are the stage names of its ``pre-``/``post-`` hooks (the version stage
    writes changelogs too, so it runs the changelog hooks as well); ``local`` stages
    change only this machine and are undone when a later local stage fails; ``release``
    stages run only for packages the run releases.
    """

    name: str
    help: str
    factory: str  # "module:Class", imported when the stage runs
    hooks: tuple[str, ...] = ()
    local: bool = True
    release: bool = True


STAGES: tuple[StageSpec, ...] = (
    StageSpec("test", "run each package's QA commands", "test:TestStage", ("test",), release=False),
    StageSpec("version", "next versions and changelogs from commits", "version:VersionStage",
              ("version", "changelog")),
    StageSpec("build", "sdist and wheel, dependencies first", "build:BuildStage", ("build",)),
    StageSpec("sign", "Sigstore bundles and PEP 740 attestations", "sign:SignStage", ("sign",)),
    StageSpec("release", "the release commit and tags, pushed on request", "release:ReleaseStage",
              local=False),
    StageSpec("publish", "upload what the index lacks", "publish:PublishStage", ("publish",),
              local=False),
    StageSpec("announce", "GitHub / GitLab releases of the new tags", "announce:AnnounceStage",
              ("announce",), local=False),
)  # fmt: skip

STAGE_NAMES: tuple[str, ...] = tuple(spec.name for spec in STAGES)
# Stages with pre-/post- hooks, in pipeline order.
HOOK_STAGES: tuple[str, ...] = tuple(hook for spec in STAGES for hook in spec.hooks)


def stage_spec(name: str) -> StageSpec:
    return next(spec for spec in STAGES if spec.name == name)


def create_stage(name: str) -> Stage:
    """A new instance of the stage ``name``, with its defaults (as ``poetflow run`` uses it)."""
    module, _, cls = stage_spec(name).factory.partition(":")
    stage: Stage = getattr(importlib.import_module(f"{__name__}.{module}"), cls)()
    return stage
