"""One HTTP request to a server under test, on a fresh connection, and the shop's error shape."""

from __future__ import annotations

import http.client
import json
import time
from dataclasses import dataclass
from typing import Any


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes
    elapsed: float

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def code(self) -> str | None:
        try:
            return self.json()["error"]["code"]
        except Exception:
            return None


def request(
    port: int,
    method: str,
    path: str,
    *,
    body: Any = None,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 20.0,
) -> Reply:
    """One HTTP request on a fresh connection (sync workers close it after each response)."""
    sent = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    if token:
        sent["Authorization"] = f"Token {token}"
    sent.update(headers or {})
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=sent)
        response = conn.getresponse()
        raw = response.read()
        received = {name.lower(): value for name, value in response.getheaders()}
        return Reply(response.status, received, raw, time.monotonic() - started)
    finally:
        conn.close()


def is_error_shape(reply: Reply, code: str | None = None) -> bool:
    """The body is the shop's error document: {"error": {code, message, details}}."""
    try:
        error = reply.json()["error"]
    except Exception:
        return False
    return (
        isinstance(error, dict)
        and isinstance(error.get("code"), str)
        and isinstance(error.get("message"), str)
        and isinstance(error.get("details"), dict)
        and (code is None or error["code"] == code)
    )
