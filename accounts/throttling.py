"""The failed-login throttle: per client address, counted atomically before the password check.

Window: LOGIN_THROTTLE_RATE (e.g. 10/min) allows that many failed logins per address in a
sliding window of the rate's period, counted the sliding-window-counter way: the failures of
the current fixed period plus those of the previous one, weighted by the share of it that still
lies within the last period. A full lockout lasts until enough of those failures have aged out,
and Retry-After says when.

Atomic: each guess reserves its place with cache.incr before its password is checked; a guess
that would pass the limit gives its place back and is refused unchecked, a successful login
(or any answer other than wrong credentials) gives it back afterwards, a failed one keeps it.
Parallel guesses, in one worker or many sharing Redis, therefore get exactly the limit of tries.
"""

import logging
import math

from rest_framework.throttling import SimpleRateThrottle

from core.exceptions import Unavailable

logger = logging.getLogger("accounts.throttling")


class LoginFailureThrottle(SimpleRateThrottle):
    """Counts only failed logins, per client address: brute force is slowed, users are not.

    The cache is per process unless REDIS_URL shares it across gunicorn workers. When the shared
    cache cannot be reached, logins answer 503: unthrottled guessing is not an option, a 500 is
    not an answer. Issued tokens keep working.
    """

    scope = "login_failures"
    reserved_key: str | None = None
    wait_seconds: float | None = None

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        try:
            return self._reserve(request, view)
        except Exception as exc:  # noqa: BLE001 - redis-py's errors, whatever the backend
            logger.warning("login throttle cache unavailable: %s", type(exc).__name__)
            raise Unavailable(
                "Logins are paused: the login throttle cannot reach its cache."
            ) from None

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def _reserve(self, request, view) -> bool:
        now = self.timer()
        period = int(now // self.duration)
        base = self.get_cache_key(request, view)
        key = f"{base}:{period}"
        # add() is a no-op if the count exists; incr() is the atomic reservation.
        self.cache.add(key, 0, timeout=2 * self.duration)
        taken = self.cache.incr(key)
        previous = self.cache.get(f"{base}:{period - 1}", 0)
        elapsed = now - period * self.duration
        if previous * (1 - elapsed / self.duration) + taken <= self.num_requests:
            self.reserved_key = key
            return True
        self.cache.decr(key)
        self.wait_seconds = self._wait(previous=previous, current=taken - 1, elapsed=elapsed)
        return False

    def _wait(self, *, previous: int, current: int, elapsed: float) -> float:
        """Seconds until one more failure fits, if no other guess comes in meanwhile."""
        limit, period = self.num_requests, self.duration
        if current + 1 > limit:
            # This period is full: wait into the next, where its failures weigh less and less.
            into_next = period * (1 - (limit - 1) / current) if current else 0.0
            wait = period - elapsed + into_next
        else:
            wait = period * (1 - (limit - current - 1) / previous) - elapsed
        return max(1, math.ceil(wait))

    def wait(self) -> float | None:
        return self.wait_seconds

    def release(self) -> None:
        """Give back this request's reservation: its answer was not a failed login."""
        if self.reserved_key is None:
            return
        key, self.reserved_key = self.reserved_key, None
        try:
            self.cache.decr(key)
        except Exception as exc:  # noqa: BLE001 - the place stays taken until the period ends
            logger.warning("login throttle could not give back a place: %s", type(exc).__name__)
