"""CI adapters: detect the CI system, turn action inputs into argv, write outputs and summaries."""

from __future__ import annotations

from poetflow.ci.environment import CiEnvironment, detect_environment
from poetflow.ci.inputs import ACTION_INPUTS, Invocation, invocation_from_env

__all__ = [
    "ACTION_INPUTS",
    "CiEnvironment",
    "Invocation",
    "detect_environment",
    "invocation_from_env",
]
