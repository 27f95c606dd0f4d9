"""Plugins by entry point: one group per extension type, typed protocols, API version checks."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast, runtime_checkable

from poetflow.errors import PoetFlowError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

__all__ = [
    "COMMANDS",
    "COMMIT_PARSERS",
    "GROUPS",
    "HOOKS",
    "PLUGIN_API_VERSION",
    "PUBLISHERS",
    "REPORTERS",
    "CommitParser",
    "LoadedPlugin",
    "ParsedCommit",
    "PluginError",
    "PluginInfo",
    "PublishRequest",
    "PublishedFile",
    "Publisher",
    "ReportEvent",
    "Reporter",
    "StageHook",
    "StageInfo",
    "StoredFile",
    "available",
    "describe_plugins",
    "forget_loaded",
    "load_group",
    "load_plugin",
    "notify_reporters",
    "set_strict",
    "strict_mode",
]

logger = logging.getLogger(__name__)

# Major.minor: a plugin built for another major is skipped; minors only add.
# 1.1: publishers may list what they hold (``lookup``), for the engine's existence checks.
PLUGIN_API_VERSION = "1.1"

COMMANDS = "poetflow.commands"
HOOKS = "poetflow.hooks"
PUBLISHERS = "poetflow.publishers"
REPORTERS = "poetflow.reporters"
COMMIT_PARSERS = "poetflow.commit_parsers"
GROUPS: tuple[str, ...] = (COMMANDS, HOOKS, PUBLISHERS, REPORTERS, COMMIT_PARSERS)

PluginStatus = Literal["loaded", "failed", "incompatible"]


class PluginError(PoetFlowError):
    """A plugin failed to load or targets another plugin API major version (strict mode)."""


# --- the protocols plugins implement -------------------------------------------------------


@dataclass(frozen=True)
class StageInfo:
    """What a stage hook plugin learns about the package a stage is working on."""

    stage: str
    package: str
    path: Path
    root: Path
    version: str | None
    next_version: str | None = None
    artifacts: tuple[Path, ...] = ()
    dry_run: bool = False


@runtime_checkable
class StageHook(Protocol):
    """``poetflow.hooks``: called around every package's stage (test, build, publish, ...).

    Raising from ``before_stage`` stops that package's stage; raising from
    ``after_stage`` fails the package. ``result`` is the stage's own result object
    (e.g. ``PackageBuild``); ``ok`` says whether the stage succeeded for the package.
    """

    name: str
    api_version: str

    def before_stage(self, info: StageInfo) -> None: ...

    def after_stage(self, info: StageInfo, result: object, ok: bool) -> None: ...


@dataclass(frozen=True)
class ReportEvent:
    """What reporters receive.

    ``package-finished``: one package's stage is done (``package`` set, ``data`` is its
    result as JSON-ready dict); ``stage-finished``: the stage's whole report (``data``).
    """

    kind: Literal["package-finished", "stage-finished"]
    stage: str
    ok: bool
    package: str | None = None
    dry_run: bool = False
    data: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class Reporter(Protocol):
    """``poetflow.reporters``: another output for results (a chat message, a metrics sink).

    Exceptions are logged as warnings: a reporter never fails a release.
    """

    name: str
    api_version: str

    def report(self, event: ReportEvent) -> None: ...


@dataclass(frozen=True)
class PublishRequest:
    """One package's files for a publisher plugin: only those it does not hold yet.

    ``dry_run`` is always False since API 1.1 (a dry run answers from ``lookup`` and never
    calls ``publish``); it stays for plugins written for 1.0.
    """

    package: str
    version: str
    files: tuple[Path, ...]
    dry_run: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PublishedFile:
    """A publisher's answer for one file: ``status`` is uploaded, skipped or failed."""

    path: Path
    status: Literal["uploaded", "skipped", "failed", "would upload"]
    url: str = ""
    detail: str = ""


@dataclass(frozen=True)
class StoredFile:
    """A file a publisher holds already (``lookup``): its name, its sha256, where it is."""

    filename: str
    sha256: str
    url: str = ""


@runtime_checkable
class Publisher(Protocol):
    """``poetflow.publishers``: another kind of target (an artifact store, a bucket).

    Optionally (API 1.1) also ``lookup(package, options) -> Sequence[StoredFile]``, with
    ``options`` as in the request: what the target holds of a package, so that files there
    are skipped (and not signed again) and a file there with other content fails the
    package before any upload, as with an index. Without it, ``publish`` decides each file.
    """

    name: str
    api_version: str

    def publish(self, request: PublishRequest) -> Sequence[PublishedFile]: ...


@dataclass(frozen=True)
class ParsedCommit:
    """A commit understood by a commit parser: its bump and changelog section."""

    bump: Literal["major", "minor", "patch", "none"]
    section: str
    subject: str
    breaking: bool = False


@runtime_checkable
class CommitParser(Protocol):
    """``poetflow.commit_parsers``: a non-conventional commit convention.

    ``parse`` returns None for a message it does not understand.
    """

    name: str
    api_version: str

    def parse(self, message: str) -> ParsedCommit | None: ...


_PROTOCOLS: dict[str, type[Any]] = {
    HOOKS: StageHook,
    REPORTERS: Reporter,
    PUBLISHERS: Publisher,
    COMMIT_PARSERS: CommitParser,
}


# --- discovery and loading -----------------------------------------------------------------


# Set by --strict-plugins for this process; None defers to POETFLOW_STRICT_PLUGINS.
_strict_override: list[bool | None] = [None]
# Bumped by forget_loaded, so listings cached elsewhere (the CLI's) are made again.
_generation = [0]
_cache_lock = threading.Lock()
_cache: dict[tuple[str, str, str], LoadedPlugin] = {}
# A broken plugin is warned about once per process, however many stages load its group.
_warned: set[tuple[str, str, str]] = set()


def set_strict(strict: bool | None) -> None:
    """Set strict mode for this process (``--strict-plugins``); None goes back to the env."""
    _strict_override[0] = strict


def strict_mode() -> bool:
    """Strict: a plugin that fails to load is an error (exit 2), not a warning."""
    if _strict_override[0] is not None:
        return _strict_override[0]
    return os.environ.get("POETFLOW_STRICT_PLUGINS", "").lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class PluginInfo:
    """An installed entry point, before or after loading."""

    group: str
    name: str
    value: str
    distribution: str
    distribution_version: str
    summary: str = ""


@dataclass(frozen=True)
class LoadedPlugin:
    """The result of loading one entry point: ``obj`` is set when ``status`` is loaded."""

    info: PluginInfo
    status: PluginStatus
    obj: Any = None
    api_version: str | None = None
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.info.group,
            "name": self.info.name,
            "value": self.info.value,
            "distribution": self.info.distribution,
            "distribution_version": self.info.distribution_version,
            "status": self.status,
            "api_version": self.api_version,
            "error": self.error,
        }


def _info(group: str, entry_point: EntryPoint) -> PluginInfo:
    dist = entry_point.dist
    if dist is None:
        return PluginInfo(group, entry_point.name, entry_point.value, "?", "?")
    # Each .metadata access parses the METADATA file again: read it once.
    metadata = cast(Any, dist.metadata)
    return PluginInfo(
        group,
        entry_point.name,
        entry_point.value,
        metadata.get("Name") or "?",
        metadata.get("Version") or "?",
        metadata.get("Summary") or "",
    )


def available(group: str) -> list[tuple[PluginInfo, EntryPoint]]:
    """The installed entry points of ``group``, sorted by name; nothing is imported."""
    from importlib.metadata import entry_points

    found = [(_info(group, ep), ep) for ep in entry_points(group=group)]
    return sorted(found, key=lambda item: (item[0].name, item[0].distribution))


def _declared_api(obj: Any, entry_point: EntryPoint) -> str | None:
    declared = getattr(obj, "api_version", None)
    if declared is None:
        import sys

        module = sys.modules.get(entry_point.module)
        declared = getattr(module, "POETFLOW_PLUGIN_API", None)
    return str(declared) if declared is not None else None


def _major(version: str) -> str:
    return version.split(".", 1)[0].strip()


def _instantiate(group: str, obj: Any) -> Any:
    """Protocol groups take a class (instantiated with no arguments) or a ready instance."""
    if group in _PROTOCOLS and isinstance(obj, type):
        return obj()
    return obj


def load_plugin(info: PluginInfo, entry_point: EntryPoint) -> LoadedPlugin:
    """Import one entry point and check its API version; never raises."""
    key = (info.group, info.name, info.value)
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    try:
        raw = entry_point.load()
        obj = _instantiate(info.group, raw)
    except Exception as exc:  # any import-time crash of a third-party module
        logger.debug("plugin %s failed to load", info.name, exc_info=True)
        loaded = LoadedPlugin(info, "failed", error=f"{type(exc).__name__}: {exc}")
    else:
        declared = _declared_api(obj, entry_point)
        protocol = _PROTOCOLS.get(info.group)
        if declared is not None and _major(declared) != _major(PLUGIN_API_VERSION):
            loaded = LoadedPlugin(
                info,
                "incompatible",
                api_version=declared,
                error=f"built for plugin API {declared}, PoetFlow provides {PLUGIN_API_VERSION}",
            )
        elif protocol is not None and not isinstance(obj, protocol):
            loaded = LoadedPlugin(
                info,
                "failed",
                api_version=declared,
                error=f"does not implement {protocol.__name__} (see docs/plugins.md)",
            )
        else:
            loaded = LoadedPlugin(info, "loaded", obj=obj, api_version=declared)
    with _cache_lock:
        _cache[key] = loaded
    return loaded


def forget_loaded() -> None:
    """Drop what was loaded so the next call reads the installed entry points again."""
    with _cache_lock:
        _cache.clear()
        _warned.clear()
        _generation[0] += 1


def scan_generation() -> int:
    """Changes each time :func:`forget_loaded` runs: a listing made under another
    generation may miss plugins installed since."""
    return _generation[0]


def problem_message(loaded: LoadedPlugin) -> str:
    info = loaded.info
    return (
        f"Plugin {info.name!r} ({info.group}) from {info.distribution} {info.distribution_version} "
        f"was skipped: {loaded.error}."
    )


def complain(loaded: LoadedPlugin) -> None:
    """Warn about a plugin that cannot be used, or raise PluginError in strict mode."""
    message = problem_message(loaded)
    if strict_mode():
        raise PluginError(
            message,
            hint=f"Fix or uninstall {loaded.info.distribution}, or run without --strict-plugins.",
        )
    key = (loaded.info.group, loaded.info.name, loaded.info.value)
    with _cache_lock:
        if key in _warned:
            return
        _warned.add(key)
    logger.warning("%s", message)


def load_group(group: str) -> list[LoadedPlugin]:
    """Load every plugin of ``group``: broken ones are warned about (errors when strict)."""
    usable = []
    for info, entry_point in available(group):
        loaded = load_plugin(info, entry_point)
        if loaded.status == "loaded":
            usable.append(loaded)
        else:
            complain(loaded)
    return usable


def describe_plugins(groups: Sequence[str] = GROUPS) -> list[LoadedPlugin]:
    """Every installed plugin of ``groups``, loaded to report its status (``poetflow plugins``)."""
    return [
        load_plugin(info, entry_point) for group in groups for info, entry_point in available(group)
    ]


def notify_reporters(event: ReportEvent, reporters: Sequence[LoadedPlugin] | None = None) -> None:
    """Hand ``event`` to every reporter plugin; a failing reporter is a warning only."""
    for loaded in load_group(REPORTERS) if reporters is None else reporters:
        try:
            loaded.obj.report(event)
        except Exception as exc:
            logger.debug("reporter %s failed", loaded.info.name, exc_info=True)
            logger.warning(
                "Reporter plugin %r from %s failed on %s of %s: %s: %s",
                loaded.info.name,
                loaded.info.distribution,
                event.kind,
                event.package or event.stage,
                type(exc).__name__,
                exc,
            )
