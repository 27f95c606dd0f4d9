"""The test stage: each selected package's QA commands (poetflow.qa)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from poetflow.pipeline.runner import PackageFacts, PackageOutcome, RunContext, StageOutcome

if TYPE_CHECKING:
    from poetflow.qa.engine import TestEvent, TestOptions

__all__ = ["TestStage"]


@dataclass
class TestStage:
    """``options`` None: the run's (``--env``, ``--jobs``, JUnit XML in the report folder)."""

    __test__ = False
    options: TestOptions | None = None
    on_event: Callable[[TestEvent], None] | None = field(default=None, repr=False)
    name: str = "test"

    def _options(self, ctx: RunContext) -> TestOptions:
        from poetflow.qa.engine import TestOptions

        if self.options is not None:
            return self.options
        directory = ctx.options.report_dir
        if directory is not None and not ctx.dry_run:
            from poetflow.files import private_directory

            # The JUnit file lands in the report folder before the report does: that
            # folder must carry its .gitignore from the start, whoever creates it.
            private_directory(directory)
        return TestOptions(
            env=ctx.options.test_env,  # type: ignore[arg-type]  # checked by the CLI
            jobs=ctx.options.jobs,
            junit_xml=directory / "junit.xml" if directory and not ctx.dry_run else None,
            cache=ctx.options.cache,
        )

    def run(self, ctx: RunContext) -> StageOutcome:
        from poetflow.qa.engine import plan_tests, run_tests

        if not ctx.selected:
            return StageOutcome(self.name, "skipped", "no package to test")
        options = self._options(ctx)
        if ctx.dry_run:
            # Locking, installing and running tests all write: a dry run shows the plan.
            planned = plan_tests(ctx.workspace, ctx.selected, options)
            packages = {
                p.name: PackageOutcome("would test", f"{p.env}: {'; '.join(p.commands)}")
                for p in planned
            }
            names = ", ".join(packages) or "nothing"
            summary = f"would test {names}"
            return StageOutcome(self.name, "skipped", summary, packages, report=planned)
        report = run_tests(ctx.workspace, ctx.selected, options, self.on_event)
        packages = {
            p.name: PackageOutcome(
                p.status,
                p.error or (p.failed_command.display if p.failed_command else ""),
                p.duration,
                PackageFacts(tests=p.counts, output="" if p.ok else p.output),
            )
            for p in report.packages
        }
        failed = [p.name for p in report.packages if not p.ok]
        summary = f"tests failed in {', '.join(failed)}" if failed else f"{len(packages)} passed"
        if not failed and report.cached:
            summary += f" ({report.cached} cached)"
        return StageOutcome(
            self.name,
            "failed" if failed else "succeeded",
            summary,
            packages,
            report=report,
            junit=report.junit_xml,
        )
