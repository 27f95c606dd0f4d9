"""Example PoetFlow plugin: a `hello` command and a release-announcing reporter."""

from __future__ import annotations

__version__ = "0.1.0"
