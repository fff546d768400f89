"""In-process rate limits: token buckets for request rates, sliding windows for failures.

Limits are kept per process. With N API processes a caller can get up to N times the
configured rate; the operations guide says so and how to size the settings.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
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


class FailureWindow:
    """Counts failures per key in a sliding window; blocks a key once it reaches the limit."""

    def __init__(self, limit: int, window: float, *, clock: Clock = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def blocked_for(self, key: str) -> float:
        """Return 0 if `key` may try again now, else seconds until it may."""
        now = self._clock()
        with self._lock:
            stamps = self._failures.get(key)
            if not stamps:
                return 0.0
            while stamps and now - stamps[0] >= self.window:
                stamps.popleft()
            if len(stamps) < self.limit:
                return 0.0
            return stamps[0] + self.window - now

    def fail(self, key: str) -> None:
        """Record one failure for `key`."""
        now = self._clock()
        with self._lock:
            stamps = self._failures.setdefault(key, deque(maxlen=max(1, self.limit)))
            stamps.append(now)
            if len(self._failures) > MAX_KEYS:
                oldest = sorted(self._failures, key=lambda k: self._failures[k][-1])
                for stale in oldest[: MAX_KEYS // 10]:
                    del self._failures[stale]

    def clear(self, key: str) -> None:
        """Forget the failures of `key` (after a success)."""
        with self._lock:
            self._failures.pop(key, None)


def retry_after_header(seconds: float) -> dict[str, str]:
    """Return a Retry-After header for a wait, rounded up to whole seconds (at least 1)."""
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


@dataclass
class AuthLimits:
    """Every limit of the authentication layer, for one process."""

    token_requests: TokenBucket
    token_failures: FailureWindow
    api_requests: TokenBucket
    login_user: FailureWindow
    login_address: FailureWindow

    @classmethod
    def from_settings(cls, settings: Settings) -> AuthLimits:
        """Build the limits configured in settings."""
        return cls(
            token_requests=TokenBucket(settings.token_rate_per_second, settings.token_rate_burst),
            token_failures=FailureWindow(
                settings.token_failures_per_address, settings.token_failure_window_seconds
            ),
            api_requests=TokenBucket(settings.api_rate_per_second, settings.api_rate_burst),
            login_user=FailureWindow(
                settings.login_failures_per_user, settings.login_failure_window_seconds
            ),
            login_address=FailureWindow(
                settings.login_failures_per_address, settings.login_failure_window_seconds
            ),
        )


def limits_of(ctx: AppContext) -> AuthLimits:
    """Return the limits of this application."""
    return ctx.auth_limits
