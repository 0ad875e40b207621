"""The order's SQL through Django's cursor (orders/services.py) writes and reads what the ORM does,
and a keyed order is not looked up before its INSERT: the unique constraint answers a retry."""

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.models import Product
from orders import services
from orders.exceptions import IdempotencyKeyReused
from orders.models import Order, OrderLine, OrderStatus

pytestmark = pytest.mark.django_db


def fields(instance, names):
    return {name: getattr(instance, name) for name in names}


def test_product_rows_equal_the_orms_in_bulk(make_product):
    made = [
        make_product(price=Decimal("0.10"), stock=1),
        make_product(price=Decimal("99999999.99"), stock=2),
        make_product(price=Decimal("19.90"), stock=3),
    ]
    ids = [p.pk for p in made] + [10**12]  # and one that does not exist
    ours = services._product_rows(ids)
    orms = Product.objects.only("id", "sku", "price").in_bulk(ids)
    assert set(ours) == set(orms) == {p.pk for p in made}
    for pk, product in orms.items():
        mine = ours[pk]
        assert fields(mine, ["id", "sku", "price"]) == fields(product, ["id", "sku", "price"])
        assert type(mine.price) is Decimal and str(mine.price) == str(product.price)
        assert mine.get_deferred_fields() == product.get_deferred_fields()


def test_the_cursor_inserts_store_the_rows_the_orm_stores(customer, make_product):
    first, second = make_product(price=Decimal("2.50")), make_product(price=Decimal("7.25"))
    now = timezone.now()

    def unsaved(key: str):
        order = Order(
            customer=customer,
            status=OrderStatus.PENDING,
            total=Decimal("17.00"),
            created_at=now,
            expires_at=now + timezone.timedelta(minutes=15),
            idempotency_key=key,
            request_digest="d" * 64 if key else "",
        )
        lines = [
            OrderLine(product=first, quantity=2, unit_price=first.price),
            OrderLine(product=second, quantity=1, unit_price=second.price),
        ]
        return order, lines

    with transaction.atomic():
        ours, our_lines = unsaved("k-1")
        services._insert_order(ours, our_lines)
        theirs, their_lines = unsaved("k-2")
        theirs.save()
        for line in their_lines:
            line.order = theirs
        OrderLine.objects.bulk_create(their_lines)
        Order.objects.filter(pk=theirs.pk).update(created_at=now)  # auto_now_add set its own

    assert ours.pk and not ours._state.adding
    names = [f.attname for f in Order._meta.concrete_fields if f.attname not in ("id",)]
    mine, orms = Order.objects.get(pk=ours.pk), Order.objects.get(pk=theirs.pk)
    assert {**fields(mine, names), "idempotency_key": ""} == {
        **fields(orms, names),
        "idempotency_key": "",
    }
    assert mine.idempotency_key == "k-1"
    # What the service answers from memory is what a read gives.
    assert fields(ours, names) == fields(mine, names)
    line_names = ["product_id", "quantity", "unit_price"]
    assert [fields(x, line_names) for x in mine.lines.all()] == [
        fields(x, line_names) for x in orms.lines.all()
    ]
    assert [fields(x, line_names) for x in our_lines] == [
        fields(x, line_names) for x in mine.lines.all()
    ]


def test_each_line_count_stores_its_own_lines_with_the_sql_kept_per_count(customer, make_product):
    products = [make_product(price=Decimal(f"{n}.25"), stock=50) for n in range(1, 4)]
    stored = []
    for count in (1, 3, 1, 2, 3):
        placed = services.order_place(
            customer=customer, lines=[(p.pk, n) for n, p in enumerate(products[:count], start=1)]
        )
        stored.append(
            list(
                OrderLine.objects.filter(order_id=placed.order.pk)
                .order_by("product_id")
                .values_list("product_id", "quantity", "unit_price")
            )
        )
    assert stored == [
        [(p.pk, n, p.price) for n, p in enumerate(products[:count], start=1)]
        for count in (1, 3, 1, 2, 3)
    ]


def test_an_order_through_the_service_equals_its_database_rows(customer, make_product):
    product = make_product(price=Decimal("3.30"), stock=10)
    placed = services.order_place(customer=customer, lines=[(product.pk, 3)])
    stored = Order.objects.get(pk=placed.order.pk)
    names = [f.attname for f in Order._meta.concrete_fields]
    assert fields(placed.order, names) == fields(stored, names)
    assert stored.total == Decimal("9.90")
    product.refresh_from_db()
    assert product.stock == 7


def test_a_keyed_order_is_not_looked_up_before_its_insert(customer, make_product):
    product = make_product(stock=10)
    with CaptureQueriesContext(connection) as unkeyed:
        services.order_place(customer=customer, lines=[(product.pk, 1)])
    with CaptureQueriesContext(connection) as keyed:
        services.order_place(
            customer=customer, lines=[(product.pk, 1)], idempotency_key="once", digest="a"
        )
    assert len(keyed) == len(unkeyed)
    table = Order._meta.db_table
    assert not [
        q for q in keyed.captured_queries if q["sql"].startswith("SELECT") and table in q["sql"]
    ]


@pytest.mark.django_db(transaction=True)
def test_a_retried_key_replays_from_the_constraint_and_takes_no_more_stock(customer, make_product):
    product = make_product(stock=10)
    first = services.order_place(
        customer=customer, lines=[(product.pk, 4)], idempotency_key="retry", digest="same"
    )
    again = services.order_place(
        customer=customer, lines=[(product.pk, 4)], idempotency_key="retry", digest="same"
    )
    assert again.replayed and not first.replayed
    assert again.order.pk == first.order.pk
    product.refresh_from_db()
    assert product.stock == 6
    with pytest.raises(IdempotencyKeyReused):
        services.order_place(
            customer=customer, lines=[(product.pk, 1)], idempotency_key="retry", digest="other"
        )
    # A retry is answered even when the stock it would need is gone now.
    services.order_place(customer=customer, lines=[(product.pk, 6)])
    replayed = services.order_place(
        customer=customer, lines=[(product.pk, 4)], idempotency_key="retry", digest="same"
    )
    assert replayed.replayed and replayed.order.pk == first.order.pk
    assert Order.objects.filter(customer=customer, idempotency_key="retry").count() == 1


# --- the common order without DRF's per-request machinery (orders.fast_order) ----------------

PER_REQUEST = {"x-request-id", "date"}


def answer(client, body, **headers):
    response = client.post("/orders/", body, content_type="application/json", **headers)
    kept = {k.lower(): v for k, v in response.items() if k.lower() not in PER_REQUEST}
    return response.status_code, response.content, kept


def through_drf(monkeypatch, client, body, **headers):
    """The same request answered by the DRF view alone."""
    from orders import apis

    calls = []
    real = apis.fast_order

    def counting(request, allow):
        found = real(request, allow)
        calls.append(found is not None)
        return found

    monkeypatch.setattr(apis, "fast_order", lambda request, allow: None)
    drf = answer(client, body, **headers)
    monkeypatch.setattr(apis, "fast_order", counting)
    return drf, calls


def same_answer(fast, drf, *, created=False):
    """Status, body and headers equal; a created order differs only in its id and times."""
    assert fast[0] == drf[0]
    assert fast[2] == drf[2]
    if not created:
        assert fast[1] == drf[1]
        return
    import orjson

    a, b = orjson.loads(fast[1]), orjson.loads(drf[1])
    assert a["id"] != b["id"]
    for volatile in ("id", "created_at", "expires_at"):
        a.pop(volatile), b.pop(volatile)
    assert a == b


@pytest.mark.parametrize("form", ["one line", "items"])
def test_a_valid_order_is_answered_by_the_fast_path_as_the_view_answers_it(
    customer_client, make_product, monkeypatch, form
):
    first, second = make_product(stock=100, price="4.20"), make_product(stock=50, price="0.99")
    body = {"product_id": second.pk, "quantity": 5}
    if form == "items":
        # lines out of order and one product twice: merged, ascending, as the view merges them
        body = {
            "items": [
                {"product_id": second.pk, "quantity": 2},
                {"product_id": first.pk, "quantity": 1},
                {"product_id": second.pk, "quantity": 3},
            ]
        }
    drf, calls = through_drf(monkeypatch, customer_client, body)
    fast = answer(customer_client, body)
    assert calls == [True]
    assert drf[0] == 201
    same_answer(fast, drf, created=True)
    # keyed: created, then replayed, each the same as the view's
    drf, _ = through_drf(monkeypatch, customer_client, body, HTTP_IDEMPOTENCY_KEY="k-drf")
    fast = answer(customer_client, body, HTTP_IDEMPOTENCY_KEY="k-fast")
    same_answer(fast, drf, created=True)
    drf, _ = through_drf(monkeypatch, customer_client, body, HTTP_IDEMPOTENCY_KEY="k-drf")
    fast = answer(customer_client, body, HTTP_IDEMPOTENCY_KEY="k-fast")
    assert fast[2]["idempotent-replayed"] == "true"
    same_answer(fast, drf, created=True)
    assert Product.objects.get(pk=second.pk).stock == 50 - 4 * 5  # four orders, no replay


@pytest.mark.parametrize(
    "case",
    ["short_stock", "unknown_product", "key_reused", "items_short_stock", "items_unknown"],
)
def test_domain_errors_of_the_fast_path_equal_the_views(
    case, customer_client, make_product, monkeypatch
):
    product = make_product(stock=3)
    headers = {}
    body = {"product_id": product.pk, "quantity": 5}
    if case == "unknown_product":
        body = {"product_id": 10**12, "quantity": 1}
    if case == "items_short_stock":
        body = {"items": [{"product_id": product.pk, "quantity": 2}] * 2}
    if case == "items_unknown":
        body = {
            "items": [
                {"product_id": product.pk, "quantity": 1},
                {"product_id": 10**12, "quantity": 1},
            ]
        }
    if case == "key_reused":
        headers = {"HTTP_IDEMPOTENCY_KEY": "once"}
        assert (
            answer(customer_client, {"product_id": product.pk, "quantity": 1}, **headers)[0] == 201
        )
        body = {"product_id": product.pk, "quantity": 2}
    drf, calls = through_drf(monkeypatch, customer_client, body, **headers)
    fast = answer(customer_client, body, **headers)
    assert calls == [True]  # the fast path answered it
    assert fast[0] in (400, 409, 422)
    same_answer(fast, drf)


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ({"product_id": 1, "quantity": 0}, {}),
        ({"product_id": True, "quantity": 1}, {}),
        ({"product_id": 1.0, "quantity": 1}, {}),
        ({"product_id": 1, "quantity": 1001}, {}),
        ({"product_id": 1, "quantity": 1, "extra": 1}, {}),
        ({"product_id": 1}, {}),
        ({"items": []}, {}),
        ({"items": [{"product_id": 1, "quantity": 1}] * 101}, {}),
        ({"items": [{"product_id": 1, "quantity": 1, "extra": 1}]}, {}),
        ({"items": [{"product_id": 1, "quantity": 0}]}, {}),
        ({"items": [{"product_id": 1, "quantity": 1}, [1]]}, {}),
        ({"items": {"product_id": 1, "quantity": 1}}, {}),
        ({"items": [{"product_id": 1, "quantity": 1}], "product_id": 1, "quantity": 1}, {}),
        ([1, 2], {}),
        ({"product_id": 1, "quantity": 1}, {"HTTP_AUTHORIZATION": "Token nope"}),
        ({"product_id": 1, "quantity": 1}, {"HTTP_AUTHORIZATION": "Bearer x"}),
        ({"product_id": 1, "quantity": 1}, {"HTTP_IDEMPOTENCY_KEY": ""}),
        ({"product_id": 1, "quantity": 1}, {"HTTP_IDEMPOTENCY_KEY": "x" * 256}),
        ({"product_id": 1, "quantity": 1}, {"HTTP_ACCEPT": "text/html"}),
    ],
)
def test_everything_else_goes_to_the_drf_view(body, headers, customer, monkeypatch):
    from rest_framework.test import APIClient

    customer_client = APIClient()  # the headers as given: no credentials on top
    headers = {"HTTP_AUTHORIZATION": f"Token {customer.auth_token.key}", **headers}
    drf, calls = through_drf(monkeypatch, customer_client, body, **headers)
    fast = answer(customer_client, body, **headers)
    assert calls == [False]  # not answered by the fast path
    assert fast == drf
    assert fast[0] >= 400


def test_the_order_fast_path_leaves_an_empty_accept_and_format_to_the_view(
    customer_client, make_product, monkeypatch
):
    from orders import apis

    product = make_product(stock=10)
    real = apis.fast_order
    calls = []

    def counting(request, allow):
        calls.append(real(request, allow))
        return calls[-1]

    monkeypatch.setattr(apis, "fast_order", counting)
    body = {"product_id": product.pk, "quantity": 1}
    for path, headers, status in [
        ("/orders/", {"HTTP_ACCEPT": ""}, 406),
        ("/orders/?format=xml", {}, 404),
    ]:
        calls.clear()
        response = customer_client.post(path, body, format="json", **headers)
        assert calls == [None]
        assert response.status_code == status
    assert Product.objects.get(pk=product.pk).stock == 10
