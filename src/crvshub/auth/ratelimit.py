"""In-process request rates: token buckets per client for tokens and API calls.

Rates are kept per process: with N API processes a client can get up to N times the configured
rate; the authentication guide says so and how to size the settings. Failed sign-ins are
counted in the database instead (`crvshub.auth.throttle`), so they add up across processes.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crvshub.context import AppContext
    from crvshub.settings import Settings

Clock = Callable[[], float]
# Past this many keys the oldest idle ones are dropped, so a flood of made-up ids cannot
# exhaust memory.
MAX_KEYS = 50_000


class TokenBucket:
    """A bucket per key: `burst` requests at once, refilled at `rate` per second."""

    def __init__(self, rate: float, burst: int, *, clock: Clock = time.monotonic) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self._clock = clock
        self._state: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend one token for `key`; return 0 if allowed, else seconds until one is free."""
        now = self._clock()
        with self._lock:
            tokens, last = self._state.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._state[key] = (tokens - 1.0, now)
                self._trim()
                return 0.0
            self._state[key] = (tokens, now)
            return (1.0 - tokens) / self.rate if self.rate > 0 else math.inf

    def _trim(self) -> None:
        if len(self._state) > MAX_KEYS:
            for key in sorted(self._state, key=lambda k: self._state[k][1])[: MAX_KEYS // 10]:
                del self._state[key]


def retry_after_header(seconds: float) -> dict[str, str]:
    """Return a Retry-After header for a wait, rounded up to whole seconds (at least 1)."""
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


@dataclass
class AuthLimits:
    """The request-rate limits of the authentication layer, for one process."""

    token_requests: TokenBucket
    api_requests: TokenBucket

    @classmethod
    def from_settings(cls, settings: Settings) -> AuthLimits:
        """Build the limits configured in settings."""
        return cls(
            token_requests=TokenBucket(settings.token_rate_per_second, settings.token_rate_burst),
            api_requests=TokenBucket(settings.api_rate_per_second, settings.api_rate_burst),
        )


def limits_of(ctx: AppContext) -> AuthLimits:
    """Return the limits of this application."""
    return ctx.auth_limits
