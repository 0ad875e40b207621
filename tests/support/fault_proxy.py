"""A TCP proxy between the server under test and its database that the test can cut.

mode "refuse": every connection is dropped and new ones are reset at once (the server is down).
mode "blackhole": every connection is dropped and new ones are accepted but never answered (the
host is unreachable), so only the client's connect timeout ends the wait.
Either way the client's kernel learns about the old connections at once (a reset). A connection
whose packets silently vanish is `tests.support.packet_loss`: the proxy listens behind it.
"""

from __future__ import annotations

import socket
import struct
import threading

from tests.support.databases import PG_HOST, PG_PORT

MODES = ("refuse", "blackhole")


def _reset(sock: socket.socket) -> None:
    """Close with RST instead of FIN: the peer learns at once that the connection is gone."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    _close(sock)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


class TcpProxy:
    """Forwards connections to `listener` (default: a new one on 127.0.0.1) to `upstream`."""

    def __init__(
        self,
        upstream: tuple[str, int] = (PG_HOST, PG_PORT),
        listener: socket.socket | None = None,
    ):
        self.upstream = upstream
        self._listener = listener or socket.create_server(("127.0.0.1", 0), backlog=64)
        self.host, self.port = self._listener.getsockname()[:2]
        self._lock = threading.Lock()
        self._mode = "open"
        self._live: set[socket.socket] = set()
        self._held: list[socket.socket] = []
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def cut(self, mode: str = "refuse") -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        with self._lock:
            self._mode = mode
            live, self._live = self._live, set()
        for sock in live:
            _reset(sock)

    def restore(self) -> None:
        with self._lock:
            self._mode = "open"
            held, self._held = self._held, []
        for sock in held:
            _reset(sock)

    def close(self) -> None:
        self.cut()
        self.restore()
        _close(self._listener)

    def _accept_loop(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                mode = self._mode
                if mode == "blackhole":
                    self._held.append(client)
            if mode == "refuse":
                _reset(client)
            elif mode == "open":
                self._connect(client)

    def _connect(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.upstream, timeout=2)
            upstream.settimeout(None)
        except OSError:
            _reset(client)
            return
        with self._lock:
            if self._mode != "open":
                _reset(client)
                _reset(upstream)
                return
            self._live.update((client, upstream))
        for src, dst in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        with self._lock:
            ours = src in self._live
            self._live.discard(src)
            self._live.discard(dst)
        if ours:
            for sock in (src, dst):
                _close(sock)
