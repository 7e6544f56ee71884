"""The request budget of the fake Kiket API: a fixed window of calls.

>>> now = [0.0]
>>> limiter = RateLimiter(2, 60, clock=lambda: now[0])
>>> limiter.consume(), limiter.consume(), limiter.consume()
(True, True, False)
>>> limiter.headers()
{'x-ratelimit-limit': '2', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '60'}
>>> now[0] = 60.0
>>> limiter.remaining
2
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

__all__ = ["RateLimiter"]


class RateLimiter:
    """A fixed window of ``limit`` calls per ``window_seconds``."""

    def __init__(
        self, limit: int, window_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock
        self._started = clock()
        self._used = 0

    def _roll(self) -> None:
        now = self._clock()
        if now >= self._started + self.window_seconds:
            self._started, self._used = now, 0

    def consume(self) -> bool:
        """Count one call; ``False`` (and nothing counted) when the window is used up."""
        self._roll()
        if self._used >= self.limit:
            return False
        self._used += 1
        return True

    @property
    def remaining(self) -> int:
        """Calls left in the current window."""
        self._roll()
        return max(self.limit - self._used, 0)

    @property
    def reset_in(self) -> int:
        """Whole seconds until the window starts again."""
        left = self._started + self.window_seconds - self._clock()
        return max(math.ceil(left), 0)

    def reset(self) -> None:
        """Start a fresh window now."""
        self._started, self._used = self._clock(), 0

    def headers(self) -> dict[str, str]:
        """``X-RateLimit-Limit``, ``-Remaining`` and ``-Reset`` (seconds) for an answer."""
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-reset": str(self.reset_in),
        }
