"""Random sequences of shop operations never break the stock invariant.

A hypothesis state machine places single- and multi-line orders, pays, cancels, expires,
restocks and creates products through the services, keeps its own model of what every
product's stock must be, and after each step checks the database against that model and the
oversell audit (stock >= 0, stock + held units == units received).
"""

from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from inventory import services as inventory_services
from inventory.exceptions import InsufficientStock
from inventory.models import Product
from orders import services as order_services
from orders.exceptions import OrderNotCancellable, OrderNotPayable
from orders.models import Order, OrderStatus
from orders.selectors import stock_audit

PENDING, PAID, CANCELLED, EXPIRED = (s.value for s in OrderStatus)


class ShopMachine(RuleBasedStateMachine):
    """The model: expected stock per product, and each order's status and merged lines."""

    customer: User  # set by the test before the machine runs

    products = Bundle("products")
    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        # Each example starts from an empty shop (the test's transactional_db commits for real).
        Order.objects.all().delete()
        Product.objects.all().delete()
        self.stock: dict[int, int] = {}
        self.received: dict[int, int] = {}
        self.status: dict[int, str] = {}
        self.lines: dict[int, dict[int, int]] = {}
        self.created = 0

    # --- operations ---------------------------------------------------------------------------

    @rule(target=products, stock=st.integers(0, 12))
    def create_product(self, stock: int) -> int:
        self.created += 1
        product = inventory_services.product_create(
            sku=f"P-{self.created}", name="Thing", price=Decimal("1.25"), stock=stock
        )
        self.stock[product.pk] = stock
        self.received[product.pk] = stock
        return product.pk

    @rule(product_id=products, quantity=st.integers(1, 1000))
    def restock(self, product_id: int, quantity: int) -> None:
        product = inventory_services.product_restock(product_id=product_id, quantity=quantity)
        self.stock[product_id] += quantity
        self.received[product_id] += quantity
        assert product.stock == self.stock[product_id]

    @rule(target=orders, product_id=products, quantity=st.integers(1, 8))
    def place_single(self, product_id: int, quantity: int):
        return self._place([(product_id, quantity)])

    @rule(
        target=orders,
        lines=st.lists(st.tuples(products, st.integers(1, 6)), min_size=1, max_size=5),
    )
    def place_multi(self, lines: list[tuple[int, int]]):
        return self._place(lines)

    def _place(self, lines: list[tuple[int, int]]):
        merged: dict[int, int] = {}
        for product_id, quantity in lines:
            merged[product_id] = merged.get(product_id, 0) + quantity
        short = [pid for pid in sorted(merged) if merged[pid] > self.stock[pid]]
        try:
            placed = order_services.order_place(customer=self.customer, lines=lines)
        except InsufficientStock as exc:
            assert short, f"refused although the model has stock: {exc.details}"
            first = short[0]
            assert exc.details == {
                "product_id": first,
                "requested": merged[first],
                "available": self.stock[first],
            }
            return multiple()
        assert not short, f"placed although the model is short of {short}"
        order = placed.order
        assert order.status == PENDING
        for product_id, quantity in merged.items():
            self.stock[product_id] -= quantity
        self.status[order.pk] = PENDING
        self.lines[order.pk] = merged
        return order.pk

    @rule(order_id=orders)
    def pay(self, order_id: int) -> None:
        order = Order.objects.get(pk=order_id)
        if self.status[order_id] == PENDING:
            assert order_services.order_pay(order=order, payer=order.customer).status == PAID
            self.status[order_id] = PAID
            return
        try:
            order_services.order_pay(order=order, payer=order.customer)
        except OrderNotPayable as exc:
            assert exc.details["status"] == self.status[order_id]
        else:
            raise AssertionError(f"paid a {self.status[order_id]} order")

    @rule(order_id=orders)
    def cancel(self, order_id: int) -> None:
        order = Order.objects.get(pk=order_id)
        if self.status[order_id] == PENDING:
            assert order_services.order_cancel(order=order).status == CANCELLED
            self._end_hold(order_id, CANCELLED)
            return
        try:
            order_services.order_cancel(order=order)
        except OrderNotCancellable as exc:
            assert exc.details["status"] == self.status[order_id]
        else:
            raise AssertionError(f"cancelled a {self.status[order_id]} order")

    @rule(order_id=orders)
    def expire(self, order_id: int) -> None:
        """Let this order's hold run out, then run the expiry job."""
        Order.objects.filter(pk=order_id).update(expires_at=timezone.now() - timedelta(seconds=1))
        due = self.status[order_id] == PENDING

        expired = order_services.orders_expire_due()

        assert expired == (1 if due else 0)
        if due:
            self._end_hold(order_id, EXPIRED)

    @rule()
    def expire_with_nothing_due(self) -> None:
        assert order_services.orders_expire_due() == 0

    def _end_hold(self, order_id: int, status: str) -> None:
        self.status[order_id] = status
        for product_id, quantity in self.lines[order_id].items():
            self.stock[product_id] += quantity

    # --- checks after every step --------------------------------------------------------------

    @invariant()
    def stock_matches_the_model_and_the_audit(self) -> None:
        audit = stock_audit()
        assert audit.ok, audit.problems
        rows = list(Product.objects.values_list("id", "stock", "units_received"))
        assert {pid: stock for pid, stock, _ in rows} == self.stock
        assert {pid: received for pid, _, received in rows} == self.received
        assert all(stock >= 0 for _, stock, _ in rows)

    @invariant()
    def order_statuses_match_the_model(self) -> None:
        assert dict(Order.objects.values_list("id", "status")) == self.status


def test_stock_invariant_holds_over_random_operation_sequences(transactional_db):
    ShopMachine.customer = User.objects.create(username="property-buyer")

    run_state_machine_as_test(
        ShopMachine,
        settings=hypothesis_settings(
            max_examples=30,
            stateful_step_count=20,
            deadline=None,
            database=None,  # no .hypothesis/ directory in the repository
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
