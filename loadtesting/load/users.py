"""The simulated users (Locust FastHttpUser): the shop's traffic mix and the last-units race.

Fixtures (tokens, product ids) are handed over in memory by the runner, or read from
LOADTEST_CREDENTIALS by the plain locustfile; a user never logs in during the load unless it runs
from the plain locustfile with LOADTEST_USERNAME / LOADTEST_PASSWORD (see locustfile.py).

Stats names are templated ("/products/{id}", "/orders/{id}/pay") so that every endpoint is one
row. A `409 insufficient_stock` is a correct answer on a sold-out product: it is marked as a
success and counted apart as a stock-out by the recorder; every other 4xx/5xx is a failure.
"""

import itertools
import random
import uuid

from gevent.event import Event
from locust import FastHttpUser, between, constant, task
from locust.exception import StopUser

from loadtesting.load.recorder import RECORDER

SEARCH_WORDS = ("lamp", "mug", "chair", "desk", "kettle", "LT-HOT", "blue", "red", "pro")
# A user remembers at most this many of its own pending orders (to pay or cancel).
MAX_PENDING = 20


class Fixtures:
    """What the users need to know about the shop: tokens and product ids."""

    def __init__(self) -> None:
        self.configure({})

    def configure(self, data: dict) -> None:
        self.customer_tokens: list[str] = [c["token"] for c in data.get("customers", ())]
        self.staff_token: str | None = (data.get("staff") or {}).get("token")
        self.products: list[int] = list(data.get("products", ()))
        self.hot_products: list[int] = list(data.get("hot_products", ()))
        self.race_product: int | None = (data.get("race") or {}).get("product_id")
        # Plain-locustfile mode only: log in once per user with these (see locustfile.py).
        self.login: tuple[str, str] | None = data.get("login")
        self._next_customer = itertools.count()

    def next_customer_token(self) -> str | None:
        if not self.customer_tokens:
            return None
        return self.customer_tokens[next(self._next_customer) % len(self.customer_tokens)]


FIXTURES = Fixtures()


class Barrier:
    """Holds every race user until all have arrived, then releases them in one hub iteration."""

    def __init__(self) -> None:
        self.reset(0)

    def reset(self, parties: int) -> None:
        self.parties = parties
        self.arrived = 0
        self.released = Event()

    def wait(self, timeout: float) -> bool:
        self.arrived += 1
        if self.arrived >= self.parties:
            self.released.set()
        return self.released.wait(timeout)


RACE_BARRIER = Barrier()


def error_code(response) -> str:
    try:
        return str(response.json()["error"]["code"])
    except Exception:  # noqa: BLE001 - not our error shape (a proxy's page, say)
        return ""


def judge(response, *expected: int) -> bool:
    """Mark the response; True when it is one of the expected statuses."""
    status = response.status_code
    if status in expected:
        response.success()
        return True
    if status == 409 and error_code(response) == "insufficient_stock":
        response.success()  # a stock-out, counted apart by the recorder
        return False
    if status == 0:
        response.failure(f"no response: {getattr(response, 'error', '') or 'connection failed'}")
    else:
        response.failure(f"HTTP {status} {error_code(response)}".rstrip())
    return False


class ShopUser(FastHttpUser):
    """A customer: browses (~60 %), orders (~25 %), pays (~10 %), cancels (~3 %); with the staff
    token, manages products (~2 %); checks /health and /summary now and then."""

    wait_time = between(0.5, 1.5)
    network_timeout = 30.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        self.pending: list[tuple[int, list[tuple[int, int]]]] = []
        self.max_page = 1
        token = FIXTURES.next_customer_token() or self._login()
        self.auth = {"Authorization": f"Token {token}"} if token else {}
        self.staff_auth = (
            {"Authorization": f"Token {FIXTURES.staff_token}"} if FIXTURES.staff_token else None
        )
        self.products = FIXTURES.products or self._discover_products()
        self.hot = FIXTURES.hot_products or self.products[:3]

    def _login(self) -> str | None:
        if not FIXTURES.login:
            return None
        username, password = FIXTURES.login
        body = {"username": username, "password": password}
        with self.client.post(
            "/auth/token", json=body, name="/auth/token", catch_response=True
        ) as response:
            if judge(response, 200):
                return response.json()["token"]
        return None

    def _discover_products(self) -> list[int]:
        with self.client.get(
            "/products/?page_size=500", name="/products/", catch_response=True
        ) as response:
            if judge(response, 200):
                return [product["id"] for product in response.json()["products"]]
        return []

    def _product(self) -> int | None:
        if not self.products:
            return None
        if self.hot and random.random() < 0.5:
            return random.choice(self.hot)
        return random.choice(self.products)

    # --- browse ~60 % ---------------------------------------------------------------------------

    @task(20)
    def list_products(self) -> None:
        page = random.randint(1, self.max_page)
        with self.client.get(
            f"/products/?page={page}", headers=self.auth, name="/products/", catch_response=True
        ) as response:
            if judge(response, 200):
                self.max_page = max(1, -(-int(response.json()["count"]) // 50))

    @task(15)
    def filter_products(self) -> None:
        query = random.choice(
            ["in_stock=true", "in_stock=false", f"search={random.choice(SEARCH_WORDS)}"]
        )
        with self.client.get(
            f"/products/?{query}",
            headers=self.auth,
            name="/products/?{filter}",
            catch_response=True,
        ) as response:
            judge(response, 200)

    @task(25)
    def product_detail(self) -> None:
        product_id = self._product()
        if product_id is None:
            return self.list_products()
        with self.client.get(
            f"/products/{product_id}",
            headers=self.auth,
            name="/products/{id}",
            catch_response=True,
        ) as response:
            judge(response, 200)

    # --- orders ~25 %: single and multi-line, half of the lines on a few hot products -----------

    def _place(self, lines: list[tuple[int, int]]) -> None:
        if len(lines) == 1:
            body: dict = {"product_id": lines[0][0], "quantity": lines[0][1]}
        else:
            body = {"items": [{"product_id": pid, "quantity": qty} for pid, qty in lines]}
        with self.client.post(
            "/orders/", json=body, headers=self.auth, name="/orders/", catch_response=True
        ) as response:
            if judge(response, 201):
                RECORDER.units_sold(lines)
                self.pending.append((response.json()["id"], lines))
                del self.pending[:-MAX_PENDING]

    @task(17)
    def order_one(self) -> None:
        product_id = self._product()
        if not self.auth or product_id is None:
            return self.product_detail()
        self._place([(product_id, random.randint(1, 3))])

    @task(8)
    def order_many(self) -> None:
        if not self.auth or len(self.products) < 4:
            return self.product_detail()
        chosen = {self._product() for _ in range(random.randint(2, 4))}
        self._place([(pid, random.randint(1, 2)) for pid in sorted(chosen)])

    # --- pay ~10 %, cancel ~3 %: the user's own pending orders ----------------------------------

    @task(10)
    def pay(self) -> None:
        if not self.pending:
            return self.product_detail()
        order_id, _lines = self.pending.pop(random.randrange(len(self.pending)))
        with self.client.post(
            f"/orders/{order_id}/pay",
            headers=self.auth,
            name="/orders/{id}/pay",
            catch_response=True,
        ) as response:
            judge(response, 200)

    @task(3)
    def cancel(self) -> None:
        if not self.pending:
            return self.product_detail()
        order_id, lines = self.pending.pop(random.randrange(len(self.pending)))
        # Counted as returned before the request: a cancel cut off when the load stops may have
        # returned the units on the server, and the ledger must never claim more than it holds.
        RECORDER.units_returned(lines)
        with self.client.post(
            f"/orders/{order_id}/cancel",
            headers=self.auth,
            name="/orders/{id}/cancel",
            catch_response=True,
        ) as response:
            if not judge(response, 200) and response.status_code:
                RECORDER.units_sold(lines)  # the server said no: not cancelled after all

    # --- staff product management ~2 % ----------------------------------------------------------

    @task(1)
    def staff_create_product(self) -> None:
        if not self.staff_auth:
            return self.product_detail()
        body = {
            "sku": f"LT-NEW-{uuid.uuid4().hex[:12]}",
            "name": f"Load-test novelty {random.randint(1, 9999)}",
            "price": f"{random.randint(100, 9999) / 100:.2f}",
            "stock": random.randint(5, 50),
        }
        with self.client.post(
            "/products/", json=body, headers=self.staff_auth, name="/products/", catch_response=True
        ) as response:
            judge(response, 201)

    @task(1)
    def staff_restock(self) -> None:
        product_id = self._product()
        if not self.staff_auth or product_id is None:
            return self.product_detail()
        with self.client.post(
            f"/products/{product_id}/restock",
            json={"quantity": random.randint(1, 10)},
            headers=self.staff_auth,
            name="/products/{id}/restock",
            catch_response=True,
        ) as response:
            judge(response, 200)

    # --- monitoring, now and then ---------------------------------------------------------------

    @task(1)
    def health(self) -> None:
        with self.client.get("/health", name="/health", catch_response=True) as response:
            judge(response, 200)

    @task(1)
    def summary(self) -> None:
        with self.client.get("/summary", name="/summary", catch_response=True) as response:
            judge(response, 200)


class RaceUser(FastHttpUser):
    """Waits at the barrier with every other race user, then orders 1 unit of the race product."""

    wait_time = constant(0)
    network_timeout = 30.0
    connection_timeout = 10.0
    # Set by the runner: seconds left before the race's hard timeout.
    barrier_timeout = 30.0

    def on_start(self) -> None:
        token = FIXTURES.next_customer_token()
        self.auth = {"Authorization": f"Token {token}"} if token else {}

    @task
    def order_last_units(self) -> None:
        if not RACE_BARRIER.wait(self.barrier_timeout):
            RECORDER.outcome("barrier timeout")
            raise StopUser()
        line = (FIXTURES.race_product, 1)
        with self.client.post(
            "/orders/",
            json={"product_id": line[0], "quantity": 1},
            headers=self.auth,
            name="/orders/",
            catch_response=True,
        ) as response:
            status, code = response.status_code, error_code(response)
            if judge(response, 201):
                RECORDER.units_sold([line])
            RECORDER.outcome(f"{status} {code}".rstrip())
        raise StopUser()


def configure(setup: dict) -> None:
    """Hand the users their fixtures and think time (from the runner, or the master's setup
    message in a distributed run)."""
    FIXTURES.configure(setup.get("fixtures") or {})
    low, high = setup.get("think_time") or (0.5, 1.5)
    ShopUser.wait_time = constant(0) if high <= 0 else between(low, high)
