"""Retrying transient index faults: exponential backoff with jitter, Retry-After, hard bounds."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from poetflow.index import HttpResponse

__all__ = ["RETRYABLE_STATUSES", "RetryPolicy", "Retrying", "retry_after_seconds"]

# 408/425/429 and the 5xx an overloaded or restarting index answers with.
RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: at most ``attempts`` tries and ``deadline`` seconds per operation.

    The n-th wait is ``base * 2**n`` capped at ``max_delay``, with full jitter so that
    parallel workers hitting the same overloaded index do not retry in lockstep.
    """

    attempts: int = 6
    base: float = 0.5
    max_delay: float = 20.0
    deadline: float = 180.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        ceiling = min(self.max_delay, self.base * (2**attempt))
        return rng.uniform(ceiling / 2, ceiling)


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Parse a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, parsed.timestamp() - (time.time() if now is None else now))


@dataclass
class Retrying:
    """Decides, attempt after attempt, whether to try again and how long to wait first."""

    policy: RetryPolicy
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random | None = None

    def __post_init__(self) -> None:
        self._started = time.monotonic()
        self._attempt = 0
        self._rng = self.rng or random.Random()

    @property
    def attempts_made(self) -> int:
        return self._attempt

    def should_retry(self, response: HttpResponse | None) -> bool:
        """After a failed attempt (``response`` None = no answer): wait and return True,
        or return False when the fault is permanent or the budget is spent."""
        self._attempt += 1
        if response is not None and response.status not in RETRYABLE_STATUSES:
            return False
        if self._attempt >= self.policy.attempts:
            return False
        wait = self.policy.delay(self._attempt - 1, self._rng)
        if response is not None:
            asked = retry_after_seconds(response.header("retry-after"))
            if asked is not None:
                wait = max(wait, min(asked, self.policy.max_delay))
        elapsed = time.monotonic() - self._started
        if elapsed + wait > self.policy.deadline:
            return False
        self.sleep(wait)
        return True
