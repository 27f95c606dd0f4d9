"""Pipeline settings: ``[tool.poetflow.pipeline]``, what ``poetflow run`` does by default."""

from __future__ import annotations

from dataclasses import dataclass

from poetflow.pipeline.stages import STAGE_NAMES
from poetflow.tables import Table, closest

__all__ = ["PipelineSettings", "parse_pipeline"]

KEYS = ("stages", "skip", "sign", "repository", "allow-dirty")


@dataclass(frozen=True)
class PipelineSettings:
    stages: tuple[str, ...] = STAGE_NAMES
    skip: tuple[str, ...] = ()
    sign: bool = False
    repository: str | None = None
    allow_dirty: bool = False


def _stage_list(table: Table, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    names = table.strings(key, default, example=f'{key} = ["test", "build"]')
    for name in names:
        if name not in STAGE_NAMES:
            guess = closest(name, STAGE_NAMES)
            raise table.error(
                key,
                f"names an unknown stage {name!r}.",
                f"Did you mean {guess!r}?" if guess else f"Stages are: {', '.join(STAGE_NAMES)}.",
            )
    return names


def parse_pipeline(table: Table) -> PipelineSettings:
    table.only(KEYS)
    return PipelineSettings(
        stages=_stage_list(table, "stages", STAGE_NAMES),
        skip=_stage_list(table, "skip", ()),
        sign=table.boolean("sign", False),
        repository=table.string("repository", None, example='"internal"'),
        allow_dirty=table.boolean("allow-dirty", False),
    )
