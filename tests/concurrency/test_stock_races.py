"""Real threads racing on real database rows: no oversell, no deadlock, state changes once.

Every thread connects first, then all are released together at a threading.Barrier, so their
transactions overlap; each closes its connection in `finally`. Each race runs ROUNDS times to
give the scheduler several chances to find a bad interleaving; the same threads (and their
connections) serve every round, since connecting hundreds of times would cost more than racing.
"""

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from inventory import services as inventory_services
from inventory.exceptions import InsufficientStock
from inventory.models import Product
from orders import services as order_services
from orders.exceptions import OrderNotCancellable, OrderNotPayable
from orders.models import Order, OrderStatus
from orders.selectors import stock_audit

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 5
JOIN_TIMEOUT = 60  # seconds; a hang is a failure, not a stuck test run

place = order_services.order_place


@dataclass
class Outcome:
    value: Any = None
    error: BaseException | None = None


class Racers:
    """`size` threads that race once per round, all released together at a Barrier.

    The threads live across the rounds, so each connects once (before the first start line) and
    closes its connection in `finally`; only the work changes from round to round.
    """

    def __init__(self, size: int):
        self.size = size
        self.start = threading.Barrier(size + 1)  # the threads and the test's thread
        self.done = threading.Barrier(size + 1)
        self.work: list[Callable[[], Any]] = []
        self.outcomes: list[Outcome] = []
        self.stopping = False
        self.failure: BaseException | None = None
        self.threads = [threading.Thread(target=self._loop, args=(i,)) for i in range(size)]
        for thread in self.threads:
            thread.start()

    def _loop(self, index: int) -> None:
        try:
            connection.ensure_connection()  # connect before the start line, not after it
            while True:
                self.start.wait(timeout=JOIN_TIMEOUT)
                if self.stopping:
                    return
                try:
                    self.outcomes[index].value = self.work[index]()
                except BaseException as exc:  # every failure goes back to the test
                    self.outcomes[index].error = exc
                self.done.wait(timeout=JOIN_TIMEOUT)
        except threading.BrokenBarrierError:
            pass  # the test's thread gave up on this round and says so
        except BaseException as exc:  # could not connect, say: fail the round now, not later
            self.failure = exc
            self.start.abort()
            self.done.abort()
        finally:
            connection.close()

    def run(self, work: list[Callable[[], Any]]) -> list[Outcome]:
        """One round: thread i runs work[i]; returns what each returned or raised."""
        assert len(work) == self.size
        self.work = work
        self.outcomes = [Outcome() for _ in work]
        try:
            self.start.wait(timeout=JOIN_TIMEOUT)
            self.done.wait(timeout=JOIN_TIMEOUT)
        except threading.BrokenBarrierError:
            self.start.abort()
            self.done.abort()
            raise AssertionError(f"a racing thread hung or died: {self.failure!r}") from None
        return self.outcomes

    def stop(self) -> None:
        self.stopping = True
        try:
            self.start.wait(timeout=JOIN_TIMEOUT)
        except threading.BrokenBarrierError:
            pass
        for thread in self.threads:
            thread.join(JOIN_TIMEOUT)
        assert not any(thread.is_alive() for thread in self.threads), "a racing thread hung"


@pytest.fixture
def racers(shoppers) -> Iterator[Callable[[int], Racers]]:
    crews: list[Racers] = []

    def _racers(size: int) -> Racers:
        crews.append(Racers(size))
        return crews[-1]

    yield _racers
    for crew in crews:  # before the database is flushed
        crew.stop()


def unexpected(outcomes: list[Outcome], *expected: type[BaseException]) -> list[BaseException]:
    return [o.error for o in outcomes if o.error and not isinstance(o.error, expected)]


def new_product(stock: int, sku: str) -> Product:
    return inventory_services.product_create(
        sku=sku, name="Hot item", price=Decimal("5.00"), stock=stock
    )


@pytest.fixture(autouse=True)
def _fast_test_settings(settings):
    # Each new test client's WhiteNoise would scan every static file (~85 ms); not under test.
    settings.WHITENOISE_AUTOREFRESH = True


@pytest.fixture
def shoppers(transactional_db) -> list[User]:
    # No passwords: hashing would cost more than the races themselves.
    return [User.objects.create(username=f"buyer-{n}") for n in range(5)]


def post_order(customer: User, body: dict, key: str) -> tuple[int, Any, str | None]:
    """POST /orders/ from this thread with its own client; (status, order id, replay header)."""
    client = APIClient()
    client.force_authenticate(customer)
    response = client.post("/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    answer = response.json()
    order_id = answer.get("id", answer.get("error"))  # an error's body, to show what went wrong
    return response.status_code, order_id, response.get("Idempotent-Replayed")


def assert_invariant() -> None:
    audit = stock_audit()
    assert audit.ok, audit.problems
    assert not Product.objects.filter(stock__lt=0).exists()


@pytest.mark.parametrize("buyer_count, stock", [(20, 5), (40, 17)])
def test_order_place_race_never_oversells(shoppers, racers, buyer_count, stock):
    race = racers(buyer_count)
    for round_ in range(ROUNDS):
        product = new_product(stock, f"HOT-{buyer_count}-{round_}")

        outcomes = race.run(
            [
                partial(place, customer=shoppers[n % len(shoppers)], lines=[(product.pk, 1)])
                for n in range(buyer_count)
            ]
        )

        assert unexpected(outcomes, InsufficientStock) == []
        placed = [o.value for o in outcomes if o.error is None]
        refused = [o.error for o in outcomes if o.error is not None]
        assert len(placed) == stock
        assert len(refused) == buyer_count - stock
        assert all(e.product_id == product.pk and e.requested == 1 for e in refused)
        assert len({p.order.pk for p in placed}) == stock
        product.refresh_from_db()
        assert product.stock == 0
        assert Order.objects.filter(lines__product=product).count() == stock
        assert_invariant()


def test_order_place_multi_line_in_opposite_orders_neither_deadlocks_nor_oversells(
    shoppers, racers
):
    buyer_count = 20
    race = racers(buyer_count)
    for round_ in range(ROUNDS):
        first = new_product(12, f"PAIR-A-{round_}")
        second = new_product(7, f"PAIR-B-{round_}")
        forwards = [(first.pk, 1), (second.pk, 1)]
        backwards = [(second.pk, 1), (first.pk, 1)]

        outcomes = race.run(
            [
                partial(
                    place,
                    customer=shoppers[n % len(shoppers)],
                    lines=forwards if n % 2 else backwards,
                )
                for n in range(buyer_count)
            ]
        )

        # A deadlock would surface as an OperationalError here.
        assert unexpected(outcomes, InsufficientStock) == []
        placed = [o for o in outcomes if o.error is None]
        refused = [o.error for o in outcomes if o.error is not None]
        assert len(placed) == 7
        # The short product is the one refused; the other line's take was rolled back.
        assert {e.product_id for e in refused} == {second.pk}
        first.refresh_from_db()
        second.refresh_from_db()
        assert (first.stock, second.stock) == (5, 0)
        assert_invariant()


def test_order_pay_cancel_and_expire_race_has_exactly_one_winner(shoppers, racers):
    race = racers(6)
    winners: Counter[str] = Counter()
    for round_ in range(ROUNDS):
        product = new_product(10, f"CONTEST-{round_}")
        order = order_services.order_place(customer=shoppers[0], lines=[(product.pk, 3)]).order
        # The expiry run looks from an hour ahead, so the order is due for it but still payable.
        later = timezone.now() + timedelta(hours=1)

        contenders = [
            ("pay", partial(order_services.order_pay, order=order, payer=shoppers[0])),
            ("cancel", partial(order_services.order_cancel, order=order)),
            ("expire", partial(order_services.orders_expire_due, now=later)),
        ] * 2
        # Start a different kind first each round, so each gets its chance at the head start.
        contenders = contenders[round_ % 3 :] + contenders[: round_ % 3]

        outcomes = race.run([work for _, work in contenders])

        assert unexpected(outcomes, OrderNotPayable, OrderNotCancellable) == []
        kinds = [kind for kind, _ in contenders]
        assert all(o.value in (0, 1) for k, o in zip(kinds, outcomes, strict=True) if k == "expire")
        won = Counter(
            kind
            for kind, outcome in zip(kinds, outcomes, strict=True)
            if outcome.error is None and outcome.value != 0  # the expiry run returns a count
        )
        assert sum(won.values()) == 1, won
        paid, cancelled = won["pay"], won["cancel"]
        status = Order.objects.get(pk=order.pk).status
        product.refresh_from_db()
        if paid:
            assert status == OrderStatus.PAID
            assert product.stock == 7
            winners["pay"] += 1
        else:
            assert status == (OrderStatus.CANCELLED if cancelled else OrderStatus.EXPIRED)
            assert product.stock == 10  # returned exactly once
            winners["cancel" if cancelled else "expire"] += 1
        assert_invariant()
    assert sum(winners.values()) == ROUNDS


def test_order_cancel_race_returns_stock_once(shoppers, racers):
    race = racers(8)
    for round_ in range(ROUNDS):
        product = new_product(10, f"CANCEL-{round_}")
        order = order_services.order_place(customer=shoppers[0], lines=[(product.pk, 4)]).order

        outcomes = race.run([partial(order_services.order_cancel, order=order)] * 8)

        assert unexpected(outcomes, OrderNotCancellable) == []
        assert sum(o.error is None for o in outcomes) == 1
        product.refresh_from_db()
        assert product.stock == 10
        assert_invariant()


def test_order_place_same_idempotency_key_concurrently_makes_one_order(shoppers, racers):
    race = racers(8)
    customer = shoppers[0]
    for round_ in range(ROUNDS):
        product = new_product(50, f"IDEM-{round_}")
        body = {"product_id": product.pk, "quantity": 2}
        key = f"checkout-{round_}"

        same_request = partial(
            place,
            customer=customer,
            lines=[(product.pk, 2)],
            idempotency_key=key,
            digest=order_services.request_digest(body),
        )

        outcomes = race.run([same_request] * 8)

        assert unexpected(outcomes) == []
        assert len({o.value.order.pk for o in outcomes}) == 1
        assert sorted(o.value.replayed for o in outcomes) == [False] + [True] * 7
        assert Order.objects.filter(customer=customer, idempotency_key=key).count() == 1
        product.refresh_from_db()
        assert product.stock == 48
        assert_invariant()


def test_order_place_same_idempotency_key_concurrently_over_http(shoppers, racers):
    race = racers(6)
    customer = shoppers[0]
    for round_ in range(ROUNDS):
        product = new_product(50, f"IDEM-HTTP-{round_}")
        post = partial(
            post_order, customer, {"product_id": product.pk, "quantity": 3}, f"h-{round_}"
        )

        outcomes = race.run([post] * 6)

        assert unexpected(outcomes) == []
        results = [o.value for o in outcomes]
        assert [result for result in results if result[0] != 201] == []
        assert len({order_id for _, order_id, _ in results}) == 1
        assert sorted(str(replayed) for _, _, replayed in results) == ["None"] + ["true"] * 5
        product.refresh_from_db()
        assert product.stock == 47
        assert_invariant()


def test_order_place_and_restock_race_keeps_the_invariant(shoppers, racers):
    race = racers(20)
    for round_ in range(ROUNDS):
        product = new_product(10, f"MIX-{round_}")
        quantities = [n % 3 + 1 for n in range(10)]
        orders = [
            partial(place, customer=shoppers[n % len(shoppers)], lines=[(product.pk, q)])
            for n, q in enumerate(quantities)
        ]
        restocks = [partial(inventory_services.product_restock, product_id=product.pk, quantity=5)]
        restocks *= 10
        workers = [w for pair in zip(orders, restocks, strict=True) for w in pair]

        outcomes = race.run(workers)

        assert unexpected(outcomes, InsufficientStock) == []
        order_outcomes = outcomes[0::2]
        taken = sum(q for q, o in zip(quantities, order_outcomes, strict=True) if o.error is None)
        product.refresh_from_db()
        assert product.units_received == 60
        assert product.stock == 60 - taken
        assert_invariant()


def test_order_place_and_cancel_race_on_one_product_keeps_the_invariant(shoppers, racers):
    race = racers(12)
    for round_ in range(ROUNDS):
        product = new_product(6, f"CHURN-{round_}")
        held = [
            order_services.order_place(customer=shoppers[0], lines=[(product.pk, 2)]).order
            for _ in range(3)
        ]  # stock now 0
        cancels = [partial(order_services.order_cancel, order=o) for o in held]
        places = [
            partial(place, customer=shoppers[n % len(shoppers)], lines=[(product.pk, 1)])
            for n in range(9)
        ]

        outcomes = race.run(cancels + places)

        assert unexpected(outcomes, InsufficientStock) == []
        assert all(o.error is None for o in outcomes[:3])
        placed = sum(o.error is None for o in outcomes[3:])
        product.refresh_from_db()
        assert product.stock == 6 - placed
        assert_invariant()
