"""A network link whose packets the test can make vanish: nothing is closed, nothing answers.

A TCP peer that stops forwarding (a stalled proxy) is still answered by its kernel, so the client
never learns anything is wrong; a host that crashed, or a firewall or NAT that forgot the
connection, answers nothing at all. `DroppingLink` builds that case on this machine: a network
namespace joined to this one by a veth pair (addresses in 198.18.0.0/15, the benchmarking range),
where `listen()` opens a socket; `drop()` puts a blackhole qdisc (every packet sent is lost) on
both ends of the pair, `restore()` takes it off. Needs root (CAP_NET_ADMIN), `ip` and `tc`;
`unavailable()` says why not.
"""

from __future__ import annotations

import ctypes
import os
import random
import shutil
import socket
import subprocess
import threading
import uuid

CLONE_NEWNET = 0x40000000


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)
    if done.returncode != 0:
        raise OSError(f"ip {' '.join(args)}: {done.stderr.strip()}")


def _tc(*args: str, check: bool = True) -> None:
    done = subprocess.run(["tc", *args], capture_output=True, text=True, timeout=10)
    if check and done.returncode != 0:
        raise OSError(f"tc {' '.join(args)}: {done.stderr.strip()}")


def unavailable() -> str | None:
    """Why a DroppingLink cannot be built here, or None when it can."""
    if os.geteuid() != 0:
        return "dropping packets needs root (a network namespace, tc qdiscs)"
    missing = [tool for tool in ("ip", "tc") if shutil.which(tool) is None]
    if missing:
        return f"dropping packets needs {' and '.join(missing)} (iproute2)"
    try:
        with DroppingLink() as link:
            link.drop()
            link.restore()
    except OSError as exc:
        return f"cannot build a dropping link: {exc}"
    return None


class DroppingLink:
    """This namespace's `near` address, joined by a veth pair to `far` in a namespace of its own."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:6]
        self.namespace = f"shopfault-{tag}"
        self._near_if, self._far_if = f"sfa{tag}", f"sfb{tag}"
        subnet = f"198.{random.randint(18, 19)}.{random.randint(0, 255)}"
        fourth = random.randrange(0, 256, 4)
        self.near, self.far = f"{subnet}.{fourth + 1}", f"{subnet}.{fourth + 2}"
        self.dropping = False

    def __enter__(self) -> DroppingLink:
        _ip("netns", "add", self.namespace)
        try:
            _ip("link", "add", self._near_if, "type", "veth", "peer", "name", self._far_if)
            _ip("link", "set", self._far_if, "netns", self.namespace)
            _ip("addr", "add", f"{self.near}/30", "dev", self._near_if)
            _ip("link", "set", self._near_if, "up")
            inside = ("netns", "exec", self.namespace, "ip")
            _ip(*inside, "addr", "add", f"{self.far}/30", "dev", self._far_if)
            _ip(*inside, "link", "set", self._far_if, "up")
            _ip(*inside, "link", "set", "lo", "up")
        except OSError:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        subprocess.run(["ip", "link", "del", self._near_if], capture_output=True, timeout=10)
        subprocess.run(["ip", "netns", "del", self.namespace], capture_output=True, timeout=10)

    def listen(self, backlog: int = 64) -> socket.socket:
        """A listening TCP socket on `far` (a free port): reached from here across the link."""
        made: list[socket.socket | BaseException] = []
        # The network namespace belongs to a thread: a short-lived one enters it to open the socket.
        thread = threading.Thread(target=self._listen_inside, args=(backlog, made))
        thread.start()
        thread.join()
        if isinstance(made[0], BaseException):
            raise made[0]
        return made[0]

    def _listen_inside(self, backlog: int, made: list) -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            with open(f"/var/run/netns/{self.namespace}") as target:
                if libc.setns(target.fileno(), CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns into the link's namespace")
            made.append(socket.create_server((self.far, 0), backlog=backlog))
        except BaseException as exc:  # handed to listen()
            made.append(exc)

    def drop(self) -> None:
        """From now on every packet across the link, either way, is lost."""
        _tc("qdisc", "add", "dev", self._near_if, "root", "blackhole")
        _tc("-n", self.namespace, "qdisc", "add", "dev", self._far_if, "root", "blackhole")
        self.dropping = True

    def restore(self) -> None:
        _tc("qdisc", "del", "dev", self._near_if, "root", check=False)
        _tc("-n", self.namespace, "qdisc", "del", "dev", self._far_if, "root", check=False)
        self.dropping = False
