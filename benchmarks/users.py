"""Locust users for the benchmark: the harness's own users, plus what only a benchmark needs.

The runner picks one class per phase on the command line
(`locust -f benchmarks/users.py --headless ... ProductListUser`). The standard mix is the
harness's ShopUser itself (loadtesting/load/users.py), signed in with the seeded tokens and a short
think time; the throughput users below are small subclasses of it that each run one request
with no think time, so req/s is what the server (or the generator) can do. BareUser hits the
bare WSGI app and needs nothing of the shop.

Fixtures come from the JSON file named by BENCH_FIXTURES (written by `benchmarks.seed`) and are
handed to the harness's users through loadtesting.load.users.configure, as the harness's runner
does.
Without BENCH_FIXTURES (`loadtest custom --locustfile benchmarks/users.py`, which runs BareUser
inside the harness's own process) nothing is configured here.
"""

import json
import os
import random
import uuid

from locust import FastHttpUser, between, constant, task

from loadtesting.load.users import ShopUser, configure


def _bench_fixtures() -> dict:
    path = os.environ.get("BENCH_FIXTURES")
    if not path:
        return {}
    with open(path) as handle:
        return json.load(handle)


BENCH_FIXTURES = _bench_fixtures()
HOT_PRODUCT_ID: int | None = BENCH_FIXTURES.get("hot_product_id")
MIX_WAIT = [float(s) for s in os.environ.get("BENCH_MIX_WAIT", "0.025,0.075").split(",")]


def harness_fixtures(bench: dict) -> dict:
    """benchmarks.seed's fixtures in the shape the harness's users take (loadtesting.load.users)."""
    products = list(bench.get("product_ids", ()))
    token, staff = bench.get("customer_token"), bench.get("staff_token")
    return {
        "customers": [{"token": token}] if token else [],
        "staff": {"token": staff} if staff else None,
        "products": products,
        "hot_products": products[:3],
    }


if BENCH_FIXTURES:
    configure({"fixtures": harness_fixtures(BENCH_FIXTURES)})


def one_task(name: str):
    """The user runs only its method `name`: Locust gives a subclass every task of its bases, so
    a throughput user would otherwise run the whole mix it inherits."""

    def decorate(cls):
        cls.tasks = [getattr(cls, name)]
        return cls

    return decorate


def expect(response, status: int) -> None:
    """Strict: any other status is a failure (stock is huge, so a 409 is one too)."""
    if response.status_code != status:
        response.failure(f"{response.status_code}: {(response.text or '')[:120]}")
    else:
        response.success()


class BareUser(FastHttpUser):
    """The HTTP ceiling: the bare WSGI app's fixed JSON."""

    wait_time = constant(0)

    @task
    def bare(self):
        self.client.get("/", name="bare")


class StandardMixUser(ShopUser):
    """The harness's standard mix (browse ~60 %, order ~25 %, pay ~10 %, cancel ~3 %, staff ~2 %,
    /health and /summary), signed in, with the benchmark's short think time (BENCH_MIX_WAIT)."""

    wait_time = between(*MIX_WAIT)


class ThroughputUser(ShopUser):
    """One request over and over, no think time; fixtures as the harness's users have them."""

    abstract = True
    wait_time = constant(0)


@one_task("first_page")
class ProductListUser(ThroughputUser):
    """GET /products/: the first page of 50, anonymous."""

    def first_page(self):
        self.client.get("/products/", name="/products/")


@one_task("any_product")
class ProductDetailUser(ThroughputUser):
    """GET /products/{id} of any seeded product, anonymous."""

    def any_product(self):
        self.client.get(f"/products/{random.choice(self.products)}", name="/products/{id}")


@one_task("order")
class HotOrderUser(ThroughputUser):
    """Every order takes one unit of the same product: the hot row."""

    label = "/orders/ (hot row)"

    def product_id(self) -> int | None:
        return HOT_PRODUCT_ID

    def headers(self) -> dict[str, str]:
        return self.auth

    def order(self):
        with self.client.post(
            "/orders/",
            json={"product_id": self.product_id(), "quantity": 1},
            headers=self.headers(),
            name=self.label,
            catch_response=True,
        ) as response:
            expect(response, 201)


@one_task("order")
class SpreadOrderUser(HotOrderUser):
    """Orders spread over every seeded product: rows rarely collide."""

    label = "/orders/ (spread)"

    def product_id(self) -> int | None:
        return random.choice(self.products)


@one_task("order")
class KeyedOrderUser(SpreadOrderUser):
    """Spread orders, each with an Idempotency-Key of its own: what a keyed order costs, with no
    replays."""

    label = "/orders/ (spread, Idempotency-Key)"

    def headers(self) -> dict[str, str]:
        return {**self.auth, "Idempotency-Key": uuid.uuid4().hex}
