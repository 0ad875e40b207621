"""HTTP probes of the target outside the load: /health, a JSON GET, and the warm-up.

Plain urllib (patched by gevent in `manage.py loadtest`); the warm-up runs its requests as
greenlets so that every server worker is busy at once.
"""

import json
import urllib.error
import urllib.request

import gevent

from loadtesting.server import http_status


def http_json(url: str, *, timeout: float = 5.0) -> tuple[int, dict]:
    """(status, JSON body) of a GET; status 0 when the server cannot be reached."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        return 0, {"error": str(reason) or type(exc).__name__}
    try:
        return status, json.loads(raw or b"{}")
    except ValueError:
        return status, {"error": "not JSON"}


def health(base_url: str, *, timeout: float = 5.0) -> dict:
    status, body = http_json(f"{base_url}/health", timeout=timeout)
    ok = status == 200 and body.get("status") == "ok"
    reason = "ok" if ok else (body.get("error") if status == 0 else f"HTTP {status}")
    return {"ok": ok, "status": status, "reason": reason, "body": body}


def health_summary(base_url: str) -> dict:
    """/health as the verdict reports it."""
    result = health(base_url)
    return {"ok": result["ok"], "status": result["status"], "reason": result["reason"]}


def _post_json(url: str, body: dict, token: str, timeout: float) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
    )
    return http_status(request, timeout) or 0


def warm_up(
    base_url: str, *, concurrency: int, token: str | None = None, product_id: int | None = None
) -> None:
    """Concurrent requests so that every server worker has run the code paths of the load before
    it is measured (gunicorn loads the app lazily per worker). The order asks for more units than
    a hot product ever has: a 409 whose transaction rolls back, so nothing is written."""
    paths = ("/health", "/products/?page_size=5", "/products/?in_stock=true&page_size=5")
    jobs = [
        gevent.spawn(http_json, f"{base_url}{path}", timeout=10.0)
        for _ in range(concurrency * 2)
        for path in paths
    ]
    if token and product_id:
        body = {"product_id": product_id, "quantity": 1000}
        jobs += [
            gevent.spawn(_post_json, f"{base_url}/orders/", body, token, 10.0)
            for _ in range(concurrency * 2)
        ]
    gevent.joinall(jobs, timeout=30)
