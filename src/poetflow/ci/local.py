"""No CI system: a terminal or an unknown CI. The report file is the whole hand-over."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from poetflow.ci.system import CiFacts

__all__ = ["NoCi"]


@dataclass(frozen=True)
class NoCi(CiFacts):
    """Detected when no other system is: the registry's last entry."""

    name: ClassVar[str] = "local"
    title: ClassVar[str] = "no CI"

    @classmethod
    def detect(cls, env: Mapping[str, str]) -> NoCi:
        return cls()
