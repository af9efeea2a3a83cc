"""A thread-safe token bucket, so a burst of deliveries queues for quota instead of failing.

Platforms limit calls per account (WeChat answers 45011 "minute quota" once an account is
called too fast). One bucket per account spends one token per API call: short bursts up to
`burst` go straight through, longer ones wait their turn for at most `timeout` seconds.
"""

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """`rate_per_sec` tokens refill continuously up to `burst`; each call spends one."""

    def __init__(self, rate_per_sec: float, burst: int, *, clock: Callable[[], float] = time.monotonic):
        if rate_per_sec <= 0 or burst < 1:
            raise ValueError("rate_per_sec must be > 0 and burst >= 1")
        self.rate = float(rate_per_sec)
        self.burst = int(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock()
        self._cond = threading.Condition()

    def _refill(self) -> float:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        return now

    def try_acquire(self) -> bool:
        """Take a token if one is there now; never waits."""
        with self._cond:
            self._refill()
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            return False

    def acquire(self, timeout: float | None = None) -> bool:
        """Wait for a token; False when none came within `timeout` seconds (None: wait as long as it takes)."""
        with self._cond:
            now = self._refill()
            deadline = None if timeout is None else now + timeout
            while self._tokens < 1:
                wait = (1 - self._tokens) / self.rate
                if deadline is not None:
                    left = deadline - now
                    if left <= 0:
                        return False
                    wait = min(wait, left)
                self._cond.wait(wait)
                now = self._refill()
            self._tokens -= 1
            return True

    def wait_time(self) -> float:
        """Seconds until the next token (0 when one is available): a hint for retry_after."""
        with self._cond:
            self._refill()
            return max(0.0, (1 - self._tokens) / self.rate)
