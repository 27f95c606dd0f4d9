"""Several indexes in one run and per-package targets, against two real pypiservers.

The monorepo: acme-core and acme-http (public: every index), acme-vault (internal only),
acme-tools (``skip = true``, an application) and acme-fixtures (the ``Private :: Do Not
Upload`` classifier, a test helper).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from publish_fixtures import DIAMOND, write_package, write_workspace
from tests.conftest import CliResult, git, init_repo

from index_server import FaultPlan, FaultyProxy, IndexServer
from poetflow.publish.engine import publish_run
from poetflow.publish.results import PublishEvent, PublishOptions
from poetflow.workspace import load_workspace

RunCli = Callable[..., CliResult]

PACKAGES: dict[str, list[str]] = {
    "acme-core": [],
    "acme-http": ["acme-core"],
    "acme-vault": ["acme-core"],
    "acme-tools": ["acme-vault", "acme-http"],
    "acme-fixtures": ["acme-core"],
}


def _files(*names: str) -> list[str]:
    found = []
    for name in names:
        module = name.replace("-", "_")
        found += [f"{module}-0.1.0-py3-none-any.whl", f"{module}-0.1.0.tar.gz"]
    return sorted(found)


def _add(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)


@pytest.fixture
def servers(index_server_factory: Callable[[], IndexServer]) -> tuple[IndexServer, IndexServer]:
    return index_server_factory(), index_server_factory()


@pytest.fixture
def monorepo(
    tmp_path: Path, servers: tuple[IndexServer, IndexServer], monkeypatch: pytest.MonkeyPatch
) -> Path:
    internal, public = servers
    root = tmp_path / "mono"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[tool.poetflow]\npackages = ["packages/*"]\n\n'
        f'[tool.poetflow.repositories.internal]\nurl = "{internal.url}"\n\n'
        f'[tool.poetflow.repositories.public]\nurl = "{public.url}"\n',
        encoding="utf-8",
    )
    for name, deps in PACKAGES.items():
        write_package(root, name, deps)
    packages = root / "packages"
    _add(
        packages / "acme-vault" / "pyproject.toml",
        '\n[tool.poetflow.publish]\nrepositories = ["internal"]\n',
    )
    _add(packages / "acme-tools" / "pyproject.toml", "\n[tool.poetflow.publish]\nskip = true\n")
    fixtures = packages / "acme-fixtures" / "pyproject.toml"
    fixtures.write_text(
        fixtures.read_text(encoding="utf-8").replace(
            'requires-python = ">=3.10"\n',
            'requires-python = ">=3.10"\nclassifiers = ["Private :: Do Not Upload"]\n',
        ),
        encoding="utf-8",
    )
    (root / ".gitignore").write_text("dist/\n.poetflow/\npoetflow-report.json\n", encoding="utf-8")
    init_repo(root)
    for server, key in ((internal, "INTERNAL"), (public, "PUBLIC")):
        monkeypatch.setenv(f"POETFLOW_REPOSITORY_{key}_USERNAME", server.username)
        monkeypatch.setenv(f"POETFLOW_REPOSITORY_{key}_PASSWORD", server.password)
    return root


RUN = (
    "run",
    "--stages",
    "build,publish",
    "--all",
    "--repository",
    "internal",
    "--repository",
    "public",
)


def test_run_sends_each_index_exactly_its_files_once(
    monorepo: Path, servers: tuple[IndexServer, IndexServer], run_cli: RunCli
) -> None:
    internal, public = servers
    first = run_cli(*RUN, "--json", cwd=monorepo)
    assert first.exit_code == 0, first.stdout + first.stderr
    assert internal.files() == _files("acme-core", "acme-http", "acme-vault")
    assert public.files() == _files("acme-core", "acme-http")

    report = json.loads(first.stdout)
    by_name = {p["name"]: p for p in report["packages"]}
    core = {
        a["path"].rsplit("/", 1)[-1]: a["published_to"] for a in by_name["acme-core"]["artifacts"]
    }
    assert len(core) == 2
    for urls in core.values():  # each file, once per index
        assert sorted(
            server
            for url in urls
            for server in (internal.url, public.url)
            if url.startswith(server)
        ) == sorted([internal.url, public.url])
    vault = by_name["acme-vault"]["artifacts"]
    assert all(
        a["published_to"] and all(internal.url in u for u in a["published_to"]) for a in vault
    )
    publish = {p: next(s for s in by_name[p]["stages"] if s["name"] == "publish") for p in by_name}
    assert publish["acme-core"]["detail"] == "internal: published; public: published"
    assert publish["acme-vault"]["detail"] == "internal: published"
    assert "skip = true" in publish["acme-tools"]["detail"]
    assert "Private :: Do Not Upload" in publish["acme-fixtures"]["detail"]

    again = run_cli(*RUN, "--json", cwd=monorepo)
    assert again.exit_code == 0, again.stdout + again.stderr
    assert internal.files() == _files("acme-core", "acme-http", "acme-vault")
    assert public.files() == _files("acme-core", "acme-http")
    stage = next(s for s in json.loads(again.stdout)["stages"] if s["name"] == "publish")
    assert stage["detail"].startswith("0 uploaded, 10 already there over 2 indexes"), stage


def test_publish_tables_list_each_file_per_index(
    monorepo: Path, servers: tuple[IndexServer, IndexServer], run_cli: RunCli
) -> None:
    result = run_cli("publish", "-r", "internal", "-r", "public", "--json", cwd=monorepo)
    assert result.exit_code == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert [t["repository"]["name"] for t in data["targets"]] == ["internal", "public"]
    internal, public = (
        [f["file"] for p in t["packages"] for f in p["files"]] for t in data["targets"]
    )
    assert sorted(internal) == _files("acme-core", "acme-http", "acme-vault")
    assert sorted(public) == _files("acme-core", "acme-http")
    assert set(data["withheld"]) == {"acme-tools", "acme-fixtures"}

    only_public = run_cli("publish", "-r", "public", "--json", "--dry-run", cwd=monorepo)
    assert only_public.exit_code == 0, only_public.stderr
    withheld = json.loads(only_public.stdout)["withheld"]
    assert withheld["acme-vault"] == "not for public: it goes to internal only"


def test_public_package_on_an_internal_only_one_is_refused_before_any_upload(
    monorepo: Path, servers: tuple[IndexServer, IndexServer], run_cli: RunCli
) -> None:
    http = monorepo / "packages" / "acme-http" / "pyproject.toml"
    http.write_text(
        http.read_text(encoding="utf-8").replace(
            '"acme-core>=0.1"', '"acme-core>=0.1", "acme-vault>=0.1"'
        ),
        encoding="utf-8",
    )
    git(monorepo, "commit", "-q", "-am", "feat(http): needs the vault")
    for args in (("--dry-run", *RUN), RUN, ("publish", "-r", "internal", "-r", "public")):
        result = run_cli(*args, cwd=monorepo)
        assert result.exit_code == 2, (args, result.stdout, result.stderr)
        assert "acme-http" in result.stderr
        assert "acme-vault" in result.stderr
        assert "public" in result.stderr
        assert "Traceback" not in result.stderr
    assert servers[0].files() == []
    assert servers[1].files() == []
    # To the internal index alone both may go: nothing is refused.
    ok = run_cli("publish", "-r", "internal", "--dry-run", cwd=monorepo)
    assert ok.exit_code == 0, ok.stdout + ok.stderr


def test_discover_status_and_plan_show_each_package_targets(
    monorepo: Path, run_cli: RunCli
) -> None:
    _add(
        monorepo / "pyproject.toml",
        '\n[tool.poetflow.publish]\nrepositories = ["internal", "public"]\n',
    )
    git(monorepo, "commit", "-q", "-am", "chore: publish to both indexes")
    status = json.loads(run_cli("discover", "--status", "--json", cwd=monorepo).stdout)
    targets = {p["name"]: p["status"]["targets"] for p in status["packages"]}
    assert targets == {
        "acme-core": ["internal", "public"],
        "acme-http": ["internal", "public"],
        "acme-vault": ["internal"],
        "acme-tools": [],
        "acme-fixtures": [],
    }
    text = run_cli("discover", "--status", cwd=monorepo).stdout
    assert "nowhere: skip = true" in text
    plan = json.loads(run_cli("plan", "--json", "--all", cwd=monorepo).stdout)
    planned = {p["package"]: p for p in plan["packages"]}
    assert planned["acme-vault"]["targets"] == ["internal"]
    assert planned["acme-core"]["targets"] == ["internal", "public"]
    assert planned["acme-tools"]["targets"] == []
    assert "Private :: Do Not Upload" in planned["acme-fixtures"]["private"]


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ('repository = "internal"', "unknown key 'repository'"),
        ("repositories = []", "publish the package nowhere"),
        ('skip = "yes"', "must be true or false"),
    ],
)
def test_bad_package_publish_settings_are_refused_at_load(
    monorepo: Path, run_cli: RunCli, table: str, expected: str
) -> None:
    _add(
        monorepo / "packages" / "acme-core" / "pyproject.toml",
        f"\n[tool.poetflow.publish]\n{table}\n",
    )
    result = run_cli("discover", cwd=monorepo)
    assert result.exit_code == 2
    assert expected in result.stderr
    assert "acme-core" in result.stderr


def test_a_slow_index_holds_back_no_other(
    tmp_path: Path, servers: tuple[IndexServer, IndexServer]
) -> None:
    """Every request to the slow index waits 0.3 s; the fast index is done long before."""
    slow_server, fast_server = servers
    proxy = FaultyProxy(slow_server.url, FaultPlan(delay_seconds=0.3))
    try:
        root = write_workspace(tmp_path / "mono", DIAMOND)
        (root / "pyproject.toml").write_text(
            '[tool.poetflow]\npackages = ["packages/*"]\n\n'
            f'[tool.poetflow.repositories.slow]\nurl = "{proxy.url}"\n\n'
            f'[tool.poetflow.repositories.fast]\nurl = "{fast_server.url}"\n',
            encoding="utf-8",
        )
        workspace = load_workspace(root)
        env: dict[str, str] = {}
        for key, server in (("SLOW", slow_server), ("FAST", fast_server)):
            env[f"POETFLOW_REPOSITORY_{key}_USERNAME"] = server.username
            env[f"POETFLOW_REPOSITORY_{key}_PASSWORD"] = server.password
        finished: dict[str, float] = {}
        started = time.monotonic()

        def record(event: PublishEvent) -> None:
            if event.kind == "package-finished":
                finished[event.target] = time.monotonic() - started

        options = PublishOptions(repositories=("slow", "fast"), jobs=2, build=False, env=env)
        run = publish_run(workspace, workspace.packages, options, record)
    finally:
        proxy.stop()
    assert run.ok
    assert [report.count("uploaded") for report in run.reports] == [8, 8]
    # The diamond is three levels deep: the slow index needs >= 3 x (lookup + 2 uploads).
    assert finished["slow"] > 1.5
    assert finished["fast"] < finished["slow"] / 2, finished
    print(f"\nslow index done after {finished['slow']:.2f}s, fast after {finished['fast']:.2f}s")


def test_a_misspelt_package_repository_is_refused_not_silently_skipped(
    monorepo: Path, servers: tuple[IndexServer, IndexServer], run_cli: RunCli
) -> None:
    vault = monorepo / "packages" / "acme-vault" / "pyproject.toml"
    vault.write_text(
        vault.read_text(encoding="utf-8").replace('["internal"]', '["interal"]'), encoding="utf-8"
    )
    git(monorepo, "commit", "-q", "-am", "chore: a typo")
    for args in (("publish", "-r", "internal", "--dry-run"), ("--dry-run", *RUN)):
        result = run_cli(*args, cwd=monorepo)
        assert result.exit_code == 2, (args, result.stderr)
        assert "packages/acme-vault/pyproject.toml" in result.stderr
        assert "'interal'" in result.stderr
    assert servers[0].files() == []


def test_only_private_packages_publish_nothing_and_need_no_credentials(
    monorepo: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("INTERNAL", "PUBLIC"):
        monkeypatch.delenv(f"POETFLOW_REPOSITORY_{key}_USERNAME")
        monkeypatch.delenv(f"POETFLOW_REPOSITORY_{key}_PASSWORD")
    result = run_cli(
        "publish",
        "-r",
        "public",
        "--package",
        "acme-tools",
        "--package",
        "acme-vault",
        cwd=monorepo,
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "acme-tools: never published: skip = true" in result.stderr
    assert "acme-vault: not for public: it goes to internal only" in result.stderr


def test_the_private_classifier_with_explicit_repositories_goes_only_there(
    monorepo: Path, servers: tuple[IndexServer, IndexServer], run_cli: RunCli
) -> None:
    _add(
        monorepo / "packages" / "acme-fixtures" / "pyproject.toml",
        '\n[tool.poetflow.publish]\nrepositories = ["internal"]\n',
    )
    git(monorepo, "commit", "-q", "-am", "chore: fixtures go to the internal index")
    result = run_cli(
        "publish", "-r", "internal", "-r", "public", "--package", "acme-fixtures", cwd=monorepo
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    internal, public = servers
    assert internal.files() == _files("acme-fixtures")
    assert public.files() == []
