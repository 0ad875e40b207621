"""Hostile bodies through a real gunicorn, where the declared Content-Length (and a chunked body)
arrive as they do in production: the body-size limit holds, garbage lengths get no 500.
"""

import http.client
import io
import json
import socket
import time

import pytest

from tests.security.hostile import MIB
from tests.support.databases import backend
from tests.support.http_request import request
from tests.support.serving import gunicorn

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_fast_password_hashing")]


# --- through a real gunicorn: declared lengths and chunked bodies ------------------------------


def raw_http(port: int, head: bytes, body_parts: list[bytes], timeout: float = 10) -> bytes:
    """Send a request byte for byte and read the answer; the server may answer before the body."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head)
        for part in body_parts:
            try:
                sock.sendall(part)
            except OSError:
                break  # the server answered and closed early, as it should for a 413
        chunks = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks)


class _Received:
    def __init__(self, raw: bytes):
        self.raw = raw

    def makefile(self, mode: str):
        return io.BytesIO(self.raw)


def parse_http(raw: bytes) -> tuple[int, dict]:
    """Status and JSON body of a raw HTTP/1.1 response (plain or chunked)."""
    response = http.client.HTTPResponse(_Received(raw))
    response.begin()
    body = response.read()
    try:
        return response.status, json.loads(body)
    except ValueError:
        return response.status, {"raw": body.decode(errors="replace")}


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    with backend("sqlite", tmp) as db:
        seed = db.seed
        with gunicorn(db.env, tmp / "gunicorn.log", workers=1) as server:
            yield server, seed


def post_head(port: int, token: str, length: bytes, extra: bytes = b"") -> bytes:
    return (
        b"POST /orders/ HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
        b"Authorization: Token %s\r\n%s%s\r\n" % (port, token.encode(), length, extra)
    )


@pytest.mark.slow
def test_hostile_declared_oversized_body_is_413_before_it_is_read(live):
    server, seed = live
    # given a request that declares 8 MiB and sends only the first 64 KiB
    head = post_head(server.port, seed.customers[0], b"Content-Length: %d\r\n" % (8 * MIB))
    started = time.monotonic()
    raw = raw_http(server.port, head, [b" " * 65536])
    # then the server answers 413 at once, from the declared length
    status, body = parse_http(raw)
    assert status == 413 and body["error"]["code"] == "payload_too_large"
    assert time.monotonic() - started < 5


@pytest.mark.slow
def test_hostile_oversized_body_sent_in_full_is_413(live):
    server, seed = live
    reply = request(
        server.port, "POST", "/orders/", body=b"[" + b"0," * MIB + b"0]", token=seed.customers[0]
    )
    assert reply.status == 413 and reply.code == "payload_too_large"


def chunked(payload: bytes, size: int = 65536) -> list[bytes]:
    parts = [
        b"%x\r\n%s\r\n" % (len(payload[i : i + size]), payload[i : i + size])
        for i in range(0, len(payload), size)
    ]
    return parts + [b"0\r\n\r\n"]


@pytest.mark.slow
def test_hostile_chunked_oversized_body_is_413(live):
    server, seed = live
    head = post_head(server.port, seed.customers[0], b"Transfer-Encoding: chunked\r\n")
    raw = raw_http(server.port, head, chunked(b"[" + b"0," * MIB + b"0]"))
    status, body = parse_http(raw)
    assert status == 413 and body["error"]["code"] == "payload_too_large"


@pytest.mark.slow
def test_hostile_chunked_small_body_is_read_like_any_other(live):
    server, seed = live
    payload = json.dumps({"product_id": seed.products[0], "quantity": 1}).encode()
    head = post_head(server.port, seed.customers[0], b"Transfer-Encoding: chunked\r\n")
    status, body = parse_http(raw_http(server.port, head, chunked(payload, size=7)))
    assert status == 201, body
    assert body["items"][0]["quantity"] == 1


@pytest.mark.slow
@pytest.mark.parametrize(
    "length", [b"Content-Length: -1\r\n", b"Content-Length: abc\r\n", b"Content-Length: 1e9\r\n"]
)
def test_hostile_garbage_content_length_is_refused_without_a_500(live, length):
    server, seed = live
    raw = raw_http(server.port, post_head(server.port, seed.customers[0], length), [b"{}"])
    status, _ = parse_http(raw)
    # gunicorn refuses a broken request line or header itself (plain 400), as docs/api.md allows.
    assert 400 <= status < 500
