"""Fixtures for plugin tests: installed distributions made on the fly on sys.path."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from poetflow.plugins import forget_loaded, set_strict

PluginSite = Callable[..., Path]


@pytest.fixture
def plugin_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PluginSite]:
    """``install(dist, entry_points={group: {name: value}}, modules={name: source})``.

    Writes a real ``*.dist-info`` (METADATA, entry_points.txt) and the modules into a
    folder on sys.path, which is what pip leaves behind; importlib.metadata finds it.
    """
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    before = set(sys.modules)
    forget_loaded()

    def install(
        dist: str,
        *,
        entry_points: dict[str, dict[str, str]],
        modules: dict[str, str],
        version: str = "0.1.0",
        summary: str = "",
    ) -> Path:
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\nSummary: {summary}\n"
        )
        (info / "entry_points.txt").write_text(
            "".join(
                f"[{group}]\n" + "".join(f"{name} = {value}\n" for name, value in items.items())
                for group, items in entry_points.items()
            )
        )
        for name, source in modules.items():
            (site / f"{name}.py").write_text(source)
        return site

    yield install
    forget_loaded()
    set_strict(None)
    for name in set(sys.modules) - before:
        module = sys.modules.get(name)
        if module is not None and str(getattr(module, "__file__", "")).startswith(str(site)):
            del sys.modules[name]
