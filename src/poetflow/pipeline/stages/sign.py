"""The sign stage: Sigstore bundles and PEP 740 attestations beside every built artifact."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from poetflow.pipeline.runner import PackageFacts, PackageOutcome, RunContext, StageOutcome

if TYPE_CHECKING:
    from poetflow.signing.options import SigningOptions

__all__ = ["SignStage"]


@dataclass
class SignStage:
    """Sign what the build stage built (``files`` None) or the given files.

    ``signing`` None: ``[tool.poetflow.signing]``. In ``poetflow run`` the stage signs only
    on request (``--sign`` or ``[tool.poetflow.pipeline] sign``); ``requested`` is for
    ``poetflow sign``, which is that request. ``others`` are named files of no package.
    """

    signing: SigningOptions | None = None
    files: Mapping[str, Sequence[Path]] | None = field(default=None, repr=False)
    others: Sequence[Path] = ()
    requested: bool = False
    name: str = "sign"

    def run(self, ctx: RunContext) -> StageOutcome:
        from poetflow.signing.engine import sign_packages
        from poetflow.signing.options import signing_options

        sign = self.requested or ctx.options.sign
        if sign is None:
            sign = ctx.workspace.config.pipeline.sign
        if not sign:
            return StageOutcome(self.name, "skipped", "signing not requested (--sign)")
        files = dict(ctx.state.artifacts if self.files is None else self.files)
        if not any(files.values()) and not self.others:
            return StageOutcome(self.name, "skipped", "nothing to sign")
        options = self.signing or signing_options(
            ctx.workspace.config.signing, root=ctx.workspace.root
        )
        report = sign_packages(
            ctx.workspace,
            files,
            options,
            others=self.others,
            dry_run=ctx.dry_run,
            jobs=ctx.options.jobs,
        )
        outcomes = {
            p.name: PackageOutcome(
                p.status,
                p.detail or f"{len(p.files)} files",
                p.duration,
                PackageFacts(
                    artifacts=p.files,
                    signed=tuple(item.artifact.name for item in p.signed),
                ),
            )
            for p in report.packages
        }
        if not report.ok:
            bad = [p.name for p in report.packages if not p.ok]
            return StageOutcome(
                self.name, "failed", f"signing failed for {', '.join(bad)}", outcomes, report=report
            )
        if report.dry_run:
            summary = f"would sign {len(report.files)} files as {report.identity}"
        else:
            summary = f"{len(report.signed)} files signed as {report.identity}"
        return StageOutcome(self.name, "succeeded", summary, outcomes, report=report)
