"""Plugins found through real entry points: listing, lazy commands, stage hooks, broken ones."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from poetflow.hooks.running import HookFailedError
from poetflow.hooks.stage import StageHooks
from poetflow.logs import configure_logging
from poetflow.plugins import PluginError, set_strict
from poetflow.workspace import load_workspace

COMMAND_MODULE = '''
import typer

app = typer.Typer()
app.api_version = "1.0"


@app.command()
def greet(name: str = "world") -> None:
    """Say hello."""
    typer.echo(f"hello {name} from a plugin")
'''

STAGE_MODULE = """
import json, os

EVENTS = []


class Recorder:
    name = "recorder"
    api_version = "1.0"

    def before_stage(self, info):
        EVENTS.append(("before", info.stage, info.package, info.version))
        if info.package == os.environ.get("REFUSE_PACKAGE"):
            raise RuntimeError("refused by policy")

    def after_stage(self, info, result, ok):
        EVENTS.append(("after", info.stage, info.package, result, ok))


class Collector:
    name = "collector"
    api_version = "1.1"

    def report(self, event):
        EVENTS.append(("report", event.kind, event.stage, event.package, event.ok))
"""

NEXT_MAJOR = """
class Future:
    name = "future"
    api_version = "2.0"

    def report(self, event):
        raise AssertionError("an incompatible plugin must never be called")
"""


def _install_good(plugin_site: Callable[..., Path]) -> None:
    plugin_site(
        "poetflow-greeter",
        summary="Greets people",
        entry_points={"poetflow.commands": {"greet": "greeter_cmd:app"}},
        modules={"greeter_cmd": COMMAND_MODULE},
    )
    plugin_site(
        "poetflow-recorder",
        version="2.3.0",
        entry_points={
            "poetflow.hooks": {"recorder": "recorder_mod:Recorder"},
            "poetflow.reporters": {"collector": "recorder_mod:Collector"},
        },
        modules={"recorder_mod": STAGE_MODULE},
    )


def _install_broken(plugin_site: Callable[..., Path]) -> None:
    plugin_site(
        "poetflow-broken",
        entry_points={
            "poetflow.reporters": {"broken": "broken_mod:Reporter"},
            "poetflow.commands": {"explode": "broken_mod:app"},
        },
        modules={"broken_mod": "import module_that_does_not_exist_anywhere\n"},
    )
    plugin_site(
        "poetflow-future",
        entry_points={"poetflow.reporters": {"future": "future_mod:Future"}},
        modules={"future_mod": NEXT_MAJOR},
    )


def test_plugins_lists_each_entry_point_with_its_distribution_and_status(
    plugin_site: Callable[..., Path], run_cli: Callable[..., Any]
) -> None:
    _install_good(plugin_site)
    _install_broken(plugin_site)
    result = run_cli("plugins", "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["api_version"] == "1.1"
    rows = {(p["group"], p["name"]): p for p in payload["plugins"]}
    assert rows[("poetflow.commands", "greet")]["distribution"] == "poetflow-greeter"
    assert rows[("poetflow.hooks", "recorder")]["distribution_version"] == "2.3.0"
    assert rows[("poetflow.reporters", "collector")]["status"] == "loaded"
    broken = rows[("poetflow.reporters", "broken")]
    assert broken["status"] == "failed"
    assert "module_that_does_not_exist_anywhere" in broken["error"]
    future = rows[("poetflow.reporters", "future")]
    assert future["status"] == "incompatible"
    assert "plugin API 2.0" in future["error"]

    table = run_cli("plugins")
    assert "poetflow-recorder 2.3.0" in table.stdout
    strict = run_cli("--strict-plugins", "plugins")
    assert strict.exit_code == 2
    assert "Plugin 'broken'" in strict.stderr
    assert "poetflow-broken" in strict.stderr
    assert "Traceback" not in strict.stderr


def test_help_lists_plugin_commands_without_importing_them(
    plugin_site: Callable[..., Path], run_cli: Callable[..., Any]
) -> None:
    _install_good(plugin_site)
    _install_broken(plugin_site)
    result = run_cli("--help")
    assert result.exit_code == 0
    assert "greet" in result.stdout
    assert "Greets people (plugin from poetflow-greeter 0.1.0)." in result.stdout
    assert "explode" in result.stdout  # listed: only running it needs the module
    assert "greeter_cmd" not in sys.modules
    assert "broken_mod" not in sys.modules

    greeted = run_cli("greet", "--name", "Ada")
    assert greeted.exit_code == 0, greeted.stderr
    assert greeted.stdout.strip() == "hello Ada from a plugin"
    assert "--name" in run_cli("greet", "--help").stdout


def test_running_a_broken_plugin_command_is_one_clear_error(
    plugin_site: Callable[..., Path], run_cli: Callable[..., Any]
) -> None:
    _install_broken(plugin_site)
    result = run_cli("explode")
    assert result.exit_code == 2
    assert "Plugin 'explode' (poetflow.commands) from poetflow-broken 0.1.0 cannot run" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
    # Built-in commands keep working with a broken plugin installed.
    assert run_cli("plugins").exit_code == 0


def test_stage_hook_and_reporter_plugins_run_around_each_package(
    plugin_site: Callable[..., Path], demo_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _install_good(plugin_site)
    workspace = load_workspace(demo_repo)
    core = workspace.get("acme-core")
    hooks = StageHooks(workspace, "build", [core])
    hooks.run(core, lambda: "built")
    hooks.finish({"packages": ["acme-core"]}, ok=True)
    events = sys.modules["recorder_mod"].EVENTS
    assert events == [
        ("before", "build", "acme-core", core.version),
        ("after", "build", "acme-core", "built", True),
        ("report", "package-finished", "build", "acme-core", True),
        ("report", "stage-finished", "build", None, True),
    ]

    events.clear()
    monkeypatch.setenv("REFUSE_PACKAGE", "acme-core")
    ran: list[str] = []
    with pytest.raises(HookFailedError, match="refused by policy"):
        hooks.run(core, lambda: ran.append("body"))
    assert ran == []
    assert ("report", "package-finished", "build", "acme-core", False) in events


def test_broken_plugins_are_warnings_and_errors_only_when_strict(
    plugin_site: Callable[..., Path], demo_repo: Path
) -> None:
    _install_broken(plugin_site)
    workspace = load_workspace(demo_repo)
    core = workspace.get("acme-core")
    stream = io.StringIO()
    configure_logging("info", "text", stream)
    hooks = StageHooks(workspace, "publish", [core])
    assert hooks.run(core, lambda: "published") == "published"
    hooks.finish({}, ok=True)  # the incompatible reporter is never called
    StageHooks(workspace, "build", [core])  # a second stage: no second warning
    log = stream.getvalue()
    assert log.count("Plugin 'broken'") == 1
    assert "warning: Plugin 'broken' (poetflow.reporters) from poetflow-broken 0.1.0" in log
    assert "warning: Plugin 'future' (poetflow.reporters) from poetflow-future 0.1.0" in log
    assert "built for plugin API 2.0" in log

    set_strict(True)
    with pytest.raises(PluginError) as error:
        StageHooks(workspace, "publish", [core])
    assert error.value.exit_code == 2
