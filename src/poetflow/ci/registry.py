"""The CI systems PoetFlow knows, one line each, and what is derived from them.

Detection, ``poetflow plan --format``, ``poetflow init --ci`` and the report's ``ci``
facts all read :data:`CI_SYSTEMS`. Adding a CI system is one module in ``poetflow.ci``
(a class implementing :class:`~poetflow.ci.system.CiSystem`) and one line here.
"""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, cast

from poetflow.errors import UsageError

if TYPE_CHECKING:
    from poetflow.ci.system import CiSystem, PlanFormat

__all__ = [
    "CI_SYSTEMS",
    "detect_system",
    "plan_formats",
    "system_classes",
    "template_system",
    "template_systems",
]

# "module:Class" in poetflow.ci, in detection order; the last one detects any environment.
CI_SYSTEMS: tuple[str, ...] = (
    "github:GitHubActions",
    "gitlab:GitLabCi",
    "azure:AzurePipelines",
    "bitbucket:BitbucketPipelines",
    "jenkins:Jenkins",
    "local:NoCi",
)


@functools.cache
def system_classes() -> tuple[type[CiSystem], ...]:
    """The system classes of :data:`CI_SYSTEMS`, in order."""
    classes = []
    for entry in CI_SYSTEMS:
        module, _, name = entry.partition(":")
        classes.append(getattr(importlib.import_module(f"poetflow.ci.{module}"), name))
    return cast("tuple[type[CiSystem], ...]", tuple(classes))


def detect_system(env: Mapping[str, str] | None = None) -> CiSystem:
    """The CI system ``env`` (default: this process's environment) belongs to."""
    env = os.environ if env is None else env
    for cls in system_classes():
        system = cls.detect(env)
        if system is not None:
            return system
    raise AssertionError("the last CI system detects every environment")  # pragma: no cover


def plan_formats() -> dict[str, PlanFormat]:
    """Every system's ``poetflow plan --format`` names and renderers."""
    return {fmt.name: fmt for cls in system_classes() for fmt in cls.plan_formats}


def template_systems() -> dict[str, type[CiSystem]]:
    """The systems ``poetflow init --ci NAME`` writes a pipeline for, by name."""
    return {cls.name: cls for cls in system_classes() if cls.templates is not None}


def template_system(name: str) -> type[CiSystem]:
    """The system ``poetflow init --ci NAME`` means; a clear error for any other name."""
    systems = template_systems()
    if name not in systems:
        raise UsageError(
            f"Unknown CI {name!r}.", hint=f"Choose one of {', '.join(sorted(systems))}."
        )
    return systems[name]
