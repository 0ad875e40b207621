"""Order traffic for fault tests: client threads placing one-unit orders, and what each got."""

from __future__ import annotations

import http.client
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.support.http_request import is_error_shape, request


@dataclass
class Outcome:
    key: str
    token: str
    product_id: int
    started: float
    finished: float
    status: int | None = None  # None: the connection failed or broke
    code: str | None = None
    order_id: int | None = None
    retry_after: str | None = None
    well_formed: bool = True
    error: str | None = None

    @property
    def latency(self) -> float:
        return self.finished - self.started


def place_order(port: int, token: str, product_id: int, key: str, timeout: float = 20) -> Outcome:
    """POST /orders/ for one unit with Idempotency-Key `key`; a broken connection is status None."""
    started = time.monotonic()
    outcome = Outcome(key, token, product_id, started, started)
    try:
        reply = request(
            port,
            "POST",
            "/orders/",
            body={"product_id": product_id, "quantity": 1},
            token=token,
            headers={"Idempotency-Key": key},
            timeout=timeout,
        )
    except (OSError, http.client.HTTPException) as exc:
        outcome.error = f"{type(exc).__name__}: {exc}"
    else:
        outcome.status = reply.status
        outcome.retry_after = reply.headers.get("retry-after")
        if reply.status == 201:
            outcome.order_id = reply.json()["id"]
        else:
            outcome.code = reply.code
            outcome.well_formed = is_error_shape(reply)
    outcome.finished = time.monotonic()
    return outcome


@dataclass
class OrderLoad:
    """Client threads placing one-unit orders, each with its own Idempotency-Key, until stopped."""

    port: int
    tokens: list[str]
    product_ids: list[int]
    threads: int = 8
    timeout: float = 20.0
    backoff: float = 0.25  # seconds a client waits after a failure, as a polite client would
    outcomes: list[Outcome] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workers = [
            threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(self.threads)
        ]

    def __enter__(self) -> OrderLoad:
        for worker in self._workers:
            worker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(self.timeout + 5)

    def _run(self, index: int) -> None:
        rng = random.Random(index)
        token = self.tokens[index % len(self.tokens)]
        while not self._stop.is_set():
            outcome = place_order(
                self.port, token, rng.choice(self.product_ids), uuid.uuid4().hex, self.timeout
            )
            with self._lock:
                self.outcomes.append(outcome)
            if outcome.status != 201:
                self._stop.wait(self.backoff)

    def snapshot(self) -> list[Outcome]:
        with self._lock:
            return list(self.outcomes)

    def wait_for(self, count: int, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.snapshot()) < count and time.monotonic() < deadline:
            time.sleep(0.05)


def first(
    outcomes: list[Outcome], predicate: Callable[[Outcome], bool], after: float
) -> Outcome | None:
    """The first outcome (by finish time) after `after` that satisfies `predicate`."""
    found = [o for o in outcomes if o.finished >= after and predicate(o)]
    return min(found, key=lambda o: o.finished, default=None)
