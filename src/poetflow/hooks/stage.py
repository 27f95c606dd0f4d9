"""The one wrapper every stage puts around each package: pre-hooks, body, post-hooks, plugins."""

from __future__ import annotations

import dataclasses
import json
import logging
import shlex
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from poetflow.files import atomic_write_text
from poetflow.hooks.config import Hook
from poetflow.hooks.running import (
    HookFailedError,
    HookInvocation,
    HookResult,
    check_hook,
    failure_message,
    hooks_for,
    run_hook,
)
from poetflow.pipeline.stages import HOOK_STAGES
from poetflow.plugins import (
    HOOKS,
    REPORTERS,
    LoadedPlugin,
    ReportEvent,
    StageInfo,
    load_group,
    notify_reporters,
)
from poetflow.workspace import Package, Workspace

__all__ = ["StageHooks", "run_stage"]

logger = logging.getLogger(__name__)

R = TypeVar("R")


def _jsonable(value: object) -> Any:
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return json.loads(json.dumps(dataclasses.asdict(value), default=str))
    return None if value is None else str(value)


class StageHooks:
    """Hooks and plugins of one stage run, prepared once and applied to each package.

    Creating it validates every selected package's hooks and checks that their programs
    exist (HookNotFoundError, exit 2, before the stage does anything) and loads the
    ``poetflow.hooks`` and ``poetflow.reporters`` plugins. :meth:`run` is thread-safe,
    so stages that build packages in parallel share one instance.
    """

    def __init__(
        self,
        workspace: Workspace,
        stage: str,
        packages: Sequence[Package],
        *,
        dry_run: bool = False,
        report: Path | None = None,
    ) -> None:
        if stage not in HOOK_STAGES:
            raise ValueError(f"unknown stage {stage!r}")
        self.workspace = workspace
        self.stage = stage
        self.dry_run = dry_run
        self._report_path = report
        self._lock = threading.Lock()
        self._results: list[HookResult] = []
        self._packages: dict[str, dict[str, Any]] = {}
        self._hooks: dict[tuple[str, str], tuple[Hook, ...]] = {}
        for package in packages:
            for when in ("pre", "post"):
                key = f"{when}-{stage}"
                hooks = hooks_for(workspace, key, package)
                invocation = HookInvocation(stage, workspace.root, package, dry_run=dry_run)
                for hook in hooks:
                    check_hook(hook, invocation)
                self._hooks[(package.name, key)] = hooks
        self._stage_plugins: list[LoadedPlugin] = load_group(HOOKS)
        self._reporters: list[LoadedPlugin] = load_group(REPORTERS)

    @property
    def results(self) -> tuple[HookResult, ...]:
        """Every hook run so far (or that would run, under dry-run), in order."""
        with self._lock:
            return tuple(self._results)

    def results_for(self, package: str) -> tuple[HookResult, ...]:
        return tuple(result for result in self.results if result.package == package)

    def run(
        self,
        package: Package,
        body: Callable[[], R],
        *,
        version: str | None = None,
        next_version: str | None = None,
        artifacts: Iterable[Path] = (),
        result_artifacts: Callable[[R], Iterable[Path]] | None = None,
        succeeded: Callable[[R], bool] | None = None,
    ) -> R:
        """Run ``body`` for ``package`` between its pre- and post-hooks.

        A failing pre-hook (or a stage-hook plugin raising in ``before_stage``) raises
        HookFailedError without running ``body``. When ``body``'s result is not
        ``succeeded``, post-hooks do not run (there is nothing to check or announce); a
        failing post-hook raises HookFailedError carrying the result. Reporter plugins
        hear about the package either way.
        """
        invocation = HookInvocation(
            stage=self.stage,
            root=self.workspace.root,
            package=package,
            version=version if version is not None else package.version,
            next_version=next_version,
            artifacts=tuple(artifacts),
            dry_run=self.dry_run,
        )
        try:
            self._plugin_call(invocation, "before_stage")
            self._run_hooks(invocation, f"pre-{self.stage}")
            result = body()
            ok = succeeded(result) if succeeded is not None else True
            if ok:
                produced = tuple(result_artifacts(result)) if result_artifacts else ()
                after = dataclasses.replace(invocation, artifacts=produced or invocation.artifacts)
                try:
                    self._run_hooks(after, f"post-{self.stage}")
                except HookFailedError as exc:
                    exc.result = result
                    raise
            self._plugin_call(invocation, "after_stage", result, ok)
        except HookFailedError as exc:
            self._record(package.name, False, exc.result, str(exc))
            raise
        self._record(package.name, ok, result, "")
        return result

    def run_together(
        self,
        packages: Sequence[Package],
        body: Callable[[], R],
        *,
        versions: Mapping[str, tuple[str | None, str | None]] | None = None,
        artifacts: Mapping[str, Sequence[Path]] | None = None,
        succeeded: Callable[[R, str], bool] | None = None,
    ) -> R:
        """For stages that write all packages in one step (version, changelog, sign):
        every package's pre-hooks (in the given order), ``body`` once, then every
        package's post-hooks.

        ``versions`` maps a package to (version, next version) for POETFLOW_VERSION and
        POETFLOW_NEXT_VERSION, ``artifacts`` a package to its files. A failing pre-hook
        raises HookFailedError before ``body`` runs (nothing written); a failing
        post-hook raises it after. ``succeeded(result, name)`` says whether ``body`` did
        its work for a package (default: yes); a package's post-hooks run only if so.
        """
        known = versions or {}
        invocations = [
            HookInvocation(
                stage=self.stage,
                root=self.workspace.root,
                package=package,
                version=known.get(package.name, (package.version, None))[0],
                next_version=known.get(package.name, (None, None))[1],
                artifacts=tuple((artifacts or {}).get(package.name, ())),
                dry_run=self.dry_run,
            )
            for package in packages
        ]
        current = invocations[0] if invocations else None
        try:
            for current in invocations:
                self._plugin_call(current, "before_stage")
                self._run_hooks(current, f"pre-{self.stage}")
            result = body()
            done: dict[str, bool] = {}
            for current in invocations:
                assert current.package is not None
                ok = succeeded(result, current.package.name) if succeeded else True
                done[current.package.name] = ok
                if ok:
                    self._run_hooks(current, f"post-{self.stage}")
                self._plugin_call(current, "after_stage", result, ok)
        except HookFailedError as exc:
            if current is not None and current.package is not None:
                self._record(current.package.name, False, exc.result, str(exc))
            raise
        for name, ok in done.items():
            self._record(name, ok, result, "")
        return result

    def finish(self, report: object, ok: bool) -> None:
        """Tell reporter plugins the stage is over; ``report`` is the stage's report.

        A mapping is passed on as is; a result object through its ``to_dict()`` or as a
        dataclass turned into JSON-ready data.
        """
        data = report if isinstance(report, Mapping) else _jsonable(report)
        notify_reporters(
            ReportEvent(
                "stage-finished",
                self.stage,
                ok,
                dry_run=self.dry_run,
                data=data if isinstance(data, Mapping) else {"report": data},
            ),
            self._reporters,
        )

    # --- internals ---------------------------------------------------------------------

    def _run_hooks(self, invocation: HookInvocation, key: str) -> None:
        assert invocation.package is not None
        hooks = self._hooks.get((invocation.package.name, key))
        if hooks is None:  # a package the stage was not prepared for: check it now
            hooks = hooks_for(self.workspace, key, invocation.package)
            for hook in hooks:
                check_hook(hook, invocation)
        for hook in hooks:
            with_report = dataclasses.replace(invocation, report=self._write_report())
            if self.dry_run:
                logger.info("would run %s hook of %s: %s", key, invocation.package.name, hook.run)
            result = run_hook(hook, with_report)
            with self._lock:
                self._results.append(result)
            if result.status in ("failed", "timed out"):
                level = logging.WARNING if result.continue_on_error else logging.DEBUG
                logger.log(level, "%s", failure_message(result, invocation, hook.timeout))
            if not result.ok:
                raise HookFailedError(
                    failure_message(result, invocation, hook.timeout),
                    hint=f"Rerun it by hand: cd {shlex.quote(str(result.cwd))} && {hook.run}",
                    hook=result,
                )

    def _plugin_call(self, invocation: HookInvocation, method: str, *args: object) -> None:
        assert invocation.package is not None
        info = StageInfo(
            stage=self.stage,
            package=invocation.package.name,
            path=invocation.package.path,
            root=invocation.root,
            version=invocation.version,
            next_version=invocation.next_version,
            artifacts=invocation.artifacts,
            dry_run=invocation.dry_run,
        )
        for plugin in self._stage_plugins:
            try:
                getattr(plugin.obj, method)(info, *args)
            except Exception as exc:
                logger.debug("stage hook plugin %s failed", plugin.info.name, exc_info=True)
                raise HookFailedError(
                    f"Stage hook plugin {plugin.info.name!r} ({plugin.info.distribution}) "
                    f"failed in {method} of {self.stage} for {invocation.package.name}: "
                    f"{type(exc).__name__}: {exc}",
                    hint=f"Fix or uninstall {plugin.info.distribution}.",
                ) from exc

    def _record(self, name: str, ok: bool, result: object, error: str) -> None:
        entry = {
            "ok": ok,
            "error": error,
            "result": _jsonable(result),
            "hooks": [hook.to_dict() for hook in self.results_for(name)],
        }
        with self._lock:
            self._packages[name] = entry
        notify_reporters(
            ReportEvent(
                "package-finished", self.stage, ok, package=name, dry_run=self.dry_run, data=entry
            ),
            self._reporters,
        )

    def _write_report(self) -> Path:
        """The run report so far (``POETFLOW_REPORT``): the given file, else a snapshot."""
        if self._report_path is not None:
            return self._report_path
        with self._lock:
            payload = {
                "root": str(self.workspace.root),
                "stage": self.stage,
                "dry_run": self.dry_run,
                "packages": dict(self._packages),
            }
            directory = _snapshot_directory()
            target = directory / f"{self.stage}-report.json"
            # A hook reading it never sees half a file.
            atomic_write_text(target, json.dumps(payload, indent=2, default=str))
            return target


_snapshot_lock = threading.Lock()
# One folder per process for report snapshots, removed at exit.
_snapshot_dirs: list[Path] = []


def _snapshot_directory() -> Path:
    with _snapshot_lock:
        if not _snapshot_dirs or not _snapshot_dirs[-1].is_dir():
            import atexit
            import shutil

            directory = Path(tempfile.mkdtemp(prefix="poetflow-report-"))
            atexit.register(shutil.rmtree, directory, True)
            _snapshot_dirs.append(directory)
        return _snapshot_dirs[-1]


def run_stage(
    hooks: StageHooks,
    package: Package,
    body: Callable[[], R],
    **kwargs: Any,
) -> R:
    """Function form of :meth:`StageHooks.run`."""
    result: R = hooks.run(package, body, **kwargs)
    return result
