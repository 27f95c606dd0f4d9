"""The sign stage: Sigstore bundles and PEP 740 attestations beside every built artifact."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from poetflow.pipeline.runner import PackageFacts, PackageOutcome, RunContext, StageOutcome

__all__ = ["SignStage"]


@dataclass
class SignStage:
    name: str = "sign"

    def run(self, ctx: RunContext) -> StageOutcome:
        sign = ctx.options.sign
        if sign is None:
            sign = ctx.workspace.config.pipeline.sign
        if not sign:
            return StageOutcome(self.name, "skipped", "signing not requested (--sign)")
        from poetflow.hooks.stage import StageHooks
        from poetflow.signing.options import signing_options
        from poetflow.signing.sign import sign_artifacts

        by_package: dict[str, list[Path]] = dict(ctx.state.artifacts)
        artifacts = [path for paths in by_package.values() for path in paths]
        if not artifacts:
            return StageOutcome(self.name, "skipped", "nothing to sign")
        if ctx.dry_run:
            return StageOutcome(self.name, "skipped", f"would sign {len(artifacts)} files")
        options = signing_options(ctx.workspace.config.signing, root=ctx.workspace.root)
        wanted = set(by_package)
        packages = [p for p in ctx.workspace.packages if p.name in wanted]
        hooks = StageHooks(ctx.workspace, "sign", packages, dry_run=ctx.dry_run)
        signed = hooks.run_together(
            packages, lambda: sign_artifacts(artifacts, options), artifacts=by_package
        )
        outcomes = {
            name: PackageOutcome(
                "signed",
                f"{len(paths)} files",
                facts=PackageFacts(signed=tuple(path.name for path in paths)),
            )
            for name, paths in by_package.items()
            if paths
        }
        return StageOutcome(self.name, "succeeded", f"{len(signed)} files signed", outcomes)
