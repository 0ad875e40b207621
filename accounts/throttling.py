import logging

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

    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # noqa: BLE001 - redis-py's errors, whatever the backend
            logger.warning("login throttle cache unavailable: %s", type(exc).__name__)
            raise Unavailable(
                "Logins are paused: the login throttle cannot reach its cache."
            ) from None

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def throttle_success(self) -> bool:
        return True  # an attempt is only counted once it has failed: see record_failure

    def record_failure(self, request, view) -> None:
        if self.rate is None:
            return
        self.key = self.get_cache_key(request, view)
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.duration)
