"""What the report page plots beside the requests, sampled while the load runs: the hot
products' stock, the server's RSS and CPU, and the load generator's own CPU.

A greenlet of the load process, every `interval` seconds. It never blocks the gevent hub: the
stock is read through the API (GET /products/{id} with a fixture customer's token, which skips
the anonymous page cache and reads through Django and the product version check, so it sees
each committed write) over gevent's cooperative sockets, not with a blocking database call; the
CPU and memory figures are psutil reads of /proc. The first and the last point of each stock
series are read from the database by the harness, before and after the load (outside it).
"""

import json
import time
import urllib.error
import urllib.request

import gevent
import psutil

SOURCE = (
    "GET /products/{{id}} with a customer's token (no page cache) every {interval:g} s from a "
    "greenlet of the load process; the first and last points from the database"
)


def product_stock(base_url: str, product_id: int, token: str, timeout: float = 2.0):
    request = urllib.request.Request(
        f"{base_url}/products/{product_id}",
        headers={"Accept": "application/json", "Authorization": f"Token {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return json.loads(response.read()).get("stock")
    except (urllib.error.URLError, OSError, TimeoutError, ValueError):
        return None


def interval_for(run_time: float) -> float:
    """Ten samples a second for a race, one a second for a run, one every 5 s past 10 minutes."""
    if run_time <= 5:
        return 0.1
    return 1.0 if run_time <= 600 else 5.0


class LiveSampler:
    def __init__(
        self,
        *,
        base_url: str,
        token: str | None,
        products: dict[str, int],
        server_pid: int | None,
        interval: float,
    ) -> None:
        self.base_url, self.token = base_url, token
        self.products = products if token else {}
        self.server_pid, self.interval = server_pid, interval
        self.stock: dict[str, list] = {sku: [] for sku in self.products}
        self.server: list = []  # [epoch, RSS MB, CPU %]
        self.generator: list = []  # [epoch, CPU % of one core]
        self._greenlet: gevent.Greenlet | None = None
        self._me = psutil.Process()

    def _server_tree(self) -> tuple[float, int] | None:
        if not self.server_pid:
            return None
        try:
            root = psutil.Process(self.server_pid)
            tree = [root, *root.children(recursive=True)]
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return None
        cpu, rss = 0.0, 0
        for process in tree:
            try:
                with process.oneshot():
                    times, memory = process.cpu_times(), process.memory_info()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            cpu += times.user + times.system
            rss += memory.rss
        return cpu, rss

    def _tick(self, previous):
        for sku, product_id in self.products.items():
            value = product_stock(self.base_url, product_id, self.token)
            if value is not None:
                self.stock[sku].append([time.time(), value])
        now = time.time()
        mine = sum(self._me.cpu_times()[:2])
        server = self._server_tree()
        if previous is not None and now > previous[0]:
            wall = now - previous[0]
            self.generator.append([now, round((mine - previous[1]) / wall * 100, 1)])
            if server is not None and previous[2] is not None:
                cpu_pct = (server[0] - previous[2][0]) / wall * 100
                self.server.append([now, round(server[1] / 1048576, 1), round(cpu_pct, 1)])
        return now, mine, server

    def _loop(self) -> None:
        previous = None
        while True:
            began = time.monotonic()
            previous = self._tick(previous)
            gevent.sleep(max(self.interval - (time.monotonic() - began), 0.01))

    def start(self) -> None:
        self._greenlet = gevent.spawn(self._loop)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill()
            self._greenlet = None
