"""Locust users for the benchmark: one class per measured load, all FastHttpUser.

The runner picks one class per phase on the command line
(`locust -f benchmarks/users.py --headless ... ProductListUser`). Fixtures (tokens, product ids)
come from the JSON file named by BENCH_FIXTURES, written by `benchmarks.seed`.

Throughput phases have no think time: each user sends its next request as soon as the last one
answered, so req/s is what the server (or the generator) can do. The standard mix has a short
think time, as a real client would, so its p95 means something.
"""

import json
import os
import random
import uuid

from locust import FastHttpUser, between, constant, task


def _fixtures() -> dict:
    path = os.environ.get("BENCH_FIXTURES")
    if not path:
        return {}
    with open(path) as handle:
        return json.load(handle)


FIXTURES = _fixtures()
PRODUCT_IDS: list[int] = FIXTURES.get("product_ids", [])
HOT_PRODUCT_ID: int | None = FIXTURES.get("hot_product_id")
MIX_WAIT = [float(s) for s in os.environ.get("BENCH_MIX_WAIT", "0.025,0.075").split(",")]


def _auth(token_key: str) -> dict[str, str]:
    token = FIXTURES.get(token_key)
    return {"Authorization": f"Token {token}"} if token else {}


class BenchUser(FastHttpUser):
    abstract = True
    wait_time = constant(0)

    def expect(self, response, status: int) -> None:
        if response.status_code != status:
            response.failure(f"{response.status_code}: {(response.text or '')[:120]}")
        else:
            response.success()


class BareUser(BenchUser):
    """The HTTP ceiling: the bare WSGI app's fixed JSON."""

    @task
    def bare(self):
        self.client.get("/", name="bare")


class ProductListUser(BenchUser):
    """GET /products/: the first page of 50, anonymous."""

    @task
    def products(self):
        self.client.get("/products/", name="/products/")


class ProductDetailUser(BenchUser):
    @task
    def product(self):
        product_id = random.choice(PRODUCT_IDS)
        self.client.get(f"/products/{product_id}", name="/products/{id}")


class HotOrderUser(BenchUser):
    """Every order takes one unit of the same product: the hot row."""

    label = "/orders/ (hot row)"

    def on_start(self):
        self.headers = _auth("customer_token")

    def product_id(self) -> int | None:
        return HOT_PRODUCT_ID

    @task
    def order(self):
        with self.client.post(
            "/orders/",
            json={"product_id": self.product_id(), "quantity": 1},
            headers=self.headers,
            name=self.label,
            catch_response=True,
        ) as response:
            self.expect(response, 201)


class SpreadOrderUser(HotOrderUser):
    """Orders spread over every seeded product: rows rarely collide."""

    label = "/orders/ (spread)"

    def product_id(self) -> int | None:
        return random.choice(PRODUCT_IDS)


class StandardMixUser(BenchUser):
    """The standard mix of loadtesting/users.py (same weights), signed in, with big stock.

    Browse ~60 % (list 20, filter 15, detail 25), order ~25 % (one line 17, several 8; half the
    lines on three hot products), pay ~10 %, cancel ~3 %, staff create/restock ~2 %, /health and
    /summary ~1 % each. Each user pays or cancels only orders it placed; stock never runs out,
    so any 409 is an error here.
    """

    wait_time = between(*MIX_WAIT)

    def on_start(self):
        self.headers = _auth("customer_token")
        self.staff_headers = _auth("staff_token")
        self.pending: list[int] = []
        self.hot = PRODUCT_IDS[:3]

    def _product(self) -> int:
        return random.choice(self.hot if random.random() < 0.5 else PRODUCT_IDS)

    @task(20)
    def products(self):
        page = random.randint(1, max(1, len(PRODUCT_IDS) // 50))
        self.client.get(f"/products/?page={page}", headers=self.headers, name="/products/")

    @task(15)
    def products_filtered(self):
        query = random.choice(["in_stock=true", "in_stock=false", "search=BENCH-001"])
        self.client.get(f"/products/?{query}", headers=self.headers, name="/products/?{filter}")

    @task(25)
    def product(self):
        self.client.get(f"/products/{self._product()}", headers=self.headers, name="/products/{id}")

    def _place(self, body: dict) -> None:
        with self.client.post(
            "/orders/", json=body, headers=self.headers, name="/orders/", catch_response=True
        ) as response:
            self.expect(response, 201)
            if response.status_code == 201:
                self.pending.append(response.json()["id"])
                del self.pending[:-20]

    @task(17)
    def order_one(self):
        self._place({"product_id": self._product(), "quantity": random.randint(1, 3)})

    @task(8)
    def order_many(self):
        chosen = sorted({self._product() for _ in range(random.randint(2, 4))})
        self._place({"items": [{"product_id": pid, "quantity": 1} for pid in chosen]})

    def _end(self, action: str) -> None:
        if not self.pending:
            return self.product()
        order_id = self.pending.pop(random.randrange(len(self.pending)))
        with self.client.post(
            f"/orders/{order_id}/{action}",
            headers=self.headers,
            name=f"/orders/{{id}}/{action}",
            catch_response=True,
        ) as response:
            self.expect(response, 200)

    @task(10)
    def pay(self):
        self._end("pay")

    @task(3)
    def cancel(self):
        self._end("cancel")

    @task(1)
    def create_product(self):
        body = {
            "sku": f"BENCH-NEW-{uuid.uuid4().hex[:12]}",
            "name": "Benchmark novelty",
            "price": "4.99",
            "stock": 1000,
        }
        with self.client.post(
            "/products/",
            json=body,
            headers=self.staff_headers,
            name="/products/",
            catch_response=True,
        ) as response:
            self.expect(response, 201)

    @task(1)
    def restock(self):
        with self.client.post(
            f"/products/{self._product()}/restock",
            json={"quantity": 5},
            headers=self.staff_headers,
            name="/products/{id}/restock",
            catch_response=True,
        ) as response:
            self.expect(response, 200)

    @task(1)
    def health(self):
        self.client.get("/health", name="/health")

    @task(1)
    def summary(self):
        self.client.get("/summary", name="/summary")
