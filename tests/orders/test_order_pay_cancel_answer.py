"""POST /orders/{id}/pay and /cancel answer from the order they read and the guarded update they
ran, not from a re-read: in a few statements, and exactly what a re-read (GET /orders/{id}) shows.
Through the fast path (orders.fast_actions) and the DRF view both."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders import apis, services
from orders.models import Order, OrderStatus
from tests.orders.helpers import place, stock_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_fast_test_settings")]

FAST = {"pay": "fast_pay", "cancel": "fast_cancel"}


@pytest.fixture(params=["fast path", "DRF view"])
def path(request, monkeypatch) -> str:
    """Each test runs once through the fast path and once through the DRF view behind it."""
    if request.param == "DRF view":
        for name in FAST.values():
            monkeypatch.setattr(apis, name, lambda request, allow, **kwargs: None)
    return request.param


def placed(client, products, quantity: int = 2) -> int:
    items = [{"product_id": product.pk, "quantity": quantity} for product in products]
    response = place(client, {"items": items} if len(items) > 1 else items[0])
    assert response.status_code == 201
    return response.json()["id"]


def statements(queries: CaptureQueriesContext) -> list[str]:
    """The statements run, but the token look-up: authentication's, whether AUTH_TOKEN_CACHE_SECONDS
    caches it or not (it differs between SQLite and PostgreSQL)."""
    return [query["sql"] for query in queries if '"authtoken_token"' not in query["sql"]]


# --- statement counts -------------------------------------------------------------------------


@pytest.mark.parametrize("lines", [1, 3])
def test_order_pay_runs_three_statements(path, lines, customer_client, make_product):
    order_id = placed(customer_client, [make_product() for _ in range(lines)])

    with CaptureQueriesContext(connection) as queries:
        response = customer_client.post(f"/orders/{order_id}/pay")

    assert response.status_code == 200
    # The order, the guarded UPDATE, the lines with their products' sku.
    assert len(statements(queries)) == 3, statements(queries)


@pytest.mark.parametrize("lines", [1, 3])
def test_order_cancel_runs_six_statements_and_one_more_a_line(
    path, lines, customer_client, make_product
):
    products = [make_product(stock=5) for _ in range(lines)]
    order_id = placed(customer_client, products)

    with CaptureQueriesContext(connection) as queries:
        response = customer_client.post(f"/orders/{order_id}/cancel")

    assert response.status_code == 200
    # The order; in one transaction (its two statements, or a savepoint's in a test): the
    # guarded UPDATE, the lines with their products' sku, one stock UPDATE a line.
    assert len(statements(queries)) == 6 + (lines - 1), statements(queries)
    assert [stock_of(product) for product in products] == [5] * lines


# --- the answer is what a re-read shows -------------------------------------------------------


@pytest.fixture(params=["shop format", "iso-8601"])
def datetime_format(request, settings, monkeypatch) -> str:
    """The shop's format (seconds), and DRF's ISO 8601 (microseconds: a timestamp written and
    one read back must agree to the last digit). The clock has microseconds, always."""
    if request.param == "iso-8601":
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DATETIME_FORMAT": "iso-8601"}
    now = timezone.now().replace(microsecond=123456)
    monkeypatch.setattr(timezone, "now", lambda: now)
    return request.param


@pytest.mark.parametrize("action", ["pay", "cancel"])
@pytest.mark.parametrize("lines", [1, 3])
def test_order_pay_and_cancel_answer_what_a_fresh_get_shows(
    path, datetime_format, action, lines, customer_client, make_product
):
    order_id = placed(customer_client, [make_product(price="4.25") for _ in range(lines)])

    response = customer_client.post(f"/orders/{order_id}/{action}")
    fresh = customer_client.get(f"/orders/{order_id}")

    assert (response.status_code, fresh.status_code) == (200, 200)
    answer = response.json()
    assert answer == fresh.json()
    assert answer["status"] == {"pay": "paid", "cancel": "cancelled"}[action]
    stamp, unset = ("paid_at", "cancelled_at") if action == "pay" else ("cancelled_at", "paid_at")
    assert answer[stamp] is not None and answer[unset] is None
    assert len(answer["items"]) == lines
    if datetime_format == "iso-8601":
        assert ".123456" in answer[stamp]  # the microseconds are shown, and agree


def test_order_pay_and_cancel_errors_after_the_answer_are_unchanged(customer_client, make_product):
    order_id = placed(customer_client, [make_product()])
    assert customer_client.post(f"/orders/{order_id}/pay").status_code == 200

    paid_again = customer_client.post(f"/orders/{order_id}/pay")
    cancelled = customer_client.post(f"/orders/{order_id}/cancel")

    assert paid_again.status_code == cancelled.status_code == 409
    assert paid_again.json()["error"]["code"] == "order_not_payable"
    assert paid_again.json()["error"]["details"] == {
        "order_id": order_id,
        "status": "paid",
        "expired": False,
    }
    assert cancelled.json()["error"]["code"] == "order_not_cancellable"
    assert cancelled.json()["error"]["details"] == {"order_id": order_id, "status": "paid"}


# --- the services' returned order -------------------------------------------------------------


def columns(order: Order) -> dict:
    return {field.attname: getattr(order, field.attname) for field in Order._meta.concrete_fields}


def lines_of(order: Order) -> list[tuple]:
    return [
        (line.pk, line.order_id, line.product_id, line.quantity, line.unit_price, line.product.sku)
        for line in order.lines.all()
    ]


@pytest.mark.parametrize("action", ["pay", "cancel"])
def test_order_pay_and_cancel_return_what_a_reread_gives(action, customer, make_product):
    products = [make_product(stock=5), make_product(stock=5)]
    order = services.order_place(customer=customer, lines=[(p.pk, 2) for p in products]).order
    read = Order.objects.get(pk=order.pk)

    if action == "pay":
        moved = services.order_pay(order=read, payer=customer)
    else:
        moved = services.order_cancel(order=read)

    reread = Order.objects.prefetch_related("lines__product").get(pk=order.pk)
    # Every column, the timestamp to the microsecond, and the lines, read with no statement more.
    assert columns(moved) == columns(reread)
    assert type(moved.status) is type(reread.status)
    with CaptureQueriesContext(connection) as queries:
        assert lines_of(moved) == lines_of(reread)
        assert all(line.order is moved for line in moved.lines.all())
    assert len(queries) == 0
    # The caller's instance is not changed; a product's other fields are read when asked.
    assert read.status == OrderStatus.PENDING and read.paid_at is read.cancelled_at is None
    assert [line.product.stock for line in moved.lines.all()] == [
        stock_of(product) for product in products
    ]


def test_orders_expire_due_still_returns_the_stock_once(customer, make_product):
    mug = make_product(stock=5)
    order = services.order_place(customer=customer, lines=[(mug.pk, 3)]).order
    Order.objects.filter(pk=order.pk).update(expires_at=order.created_at)

    assert services.orders_expire_due() == 1
    assert services.orders_expire_due() == 0

    assert Order.objects.get(pk=order.pk).status == OrderStatus.EXPIRED
    assert stock_of(mug) == 5
