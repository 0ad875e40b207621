"""The base of every domain error: a stable code, an HTTP status, a message and details."""

from typing import Any


class ShopError(Exception):
    code = "error"
    status_code = 400
    default_message = "The request could not be served."

    def __init__(self, message: str | None = None, details: dict[str, Any] | None = None):
        self.message = message or self.default_message
        self.details = details or {}
        super().__init__(self.message)


class Unavailable(ShopError):
    code = "unavailable"
    status_code = 503
    default_message = "The database is unavailable or busy; retry shortly."
