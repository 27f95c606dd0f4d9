"""Shared by the container tests and their fixtures."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str
