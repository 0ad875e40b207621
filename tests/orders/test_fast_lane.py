"""Orders, payments and cancels answered before Django's handler (core/fast_lane.py) get the answer
Django gives them: status, body and every header, the middleware's included. Anything the fast
paths would not answer reaches Django whole, body and all.

Each case runs the same request through Django alone (shop.wsgi.django_application) and through
the lane in front of it, on twin orders where state matters, with one clock for both.
"""

import io
from decimal import Decimal

import orjson
import pytest
from django.core import signals
from django.db import OperationalError
from django.urls import get_resolver
from django.utils import timezone

from core.fast_lane import FastLane, routes_of
from orders import services
from orders.models import Order, OrderStatus
from shop.wsgi import django_application
from tests.conftest import make_user
from tests.orders.helpers import stock_of
from tests.support.lane import REQUEST_ID, Spy, both, call, spied_lane

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_fast_test_settings"),
]


@pytest.fixture
def frozen_now(monkeypatch):
    now = timezone.now().replace(microsecond=654321)
    monkeypatch.setattr(timezone, "now", lambda: now)
    return now


@pytest.fixture
def lane():
    return spied_lane()


def without_id(answer, order_id: int | None = None):
    """The answer with the order's id (`order_id`, in an error) and the body's length hidden."""
    status, headers, content = answer
    data = orjson.loads(content) if content else None
    if isinstance(data, dict) and "id" in data:
        data["id"] = "<id>"
    if isinstance(data, dict) and "error" in data and order_id is not None:
        error = data["error"]
        error["message"] = error["message"].replace(f"Order {order_id} ", "Order <id> ")
        if error["details"].get("order_id") == order_id:
            error["details"]["order_id"] = "<id>"
    headers = [(k, v if k != "Content-Length" else "<n>") for k, v in headers]
    return status, headers, data


@pytest.fixture
def shop(frozen_now, make_product):
    alice, bob = make_user("alice"), make_user("bob")
    product = make_product(price=Decimal("12.50"), stock=100)
    return alice, bob, product


@pytest.mark.parametrize("form", ["one line", "items"])
def test_an_order_is_answered_by_the_lane_as_by_django(lane, shop, form):
    alice, _bob, product = shop
    body = {"product_id": product.pk, "quantity": 2}
    if form == "items":
        body = {"items": [{"product_id": product.pk, "quantity": 1}] * 2}
    django_answer, lane_answer, in_lane = both(lane, "/orders/", body, token=alice.auth_token.key)
    assert in_lane
    assert django_answer[0] == "201 Created"
    assert without_id(lane_answer) == without_id(django_answer)
    assert dict(lane_answer[1])["X-Request-ID"] == REQUEST_ID
    assert dict(lane_answer[1])["Content-Length"] == str(len(lane_answer[2]))
    assert stock_of(product) == 96


@pytest.mark.parametrize("path", ["/orders/", "/orders"])
def test_order_errors_are_answered_by_the_lane_as_by_django(lane, shop, path):
    alice, _bob, product = shop
    for body in (
        {"product_id": product.pk, "quantity": 101},  # 409 insufficient_stock
        {"product_id": 10**12, "quantity": 1},  # 400 invalid: no such product
    ):
        django_answer, lane_answer, in_lane = both(lane, path, body, token=alice.auth_token.key)
        assert in_lane
        assert django_answer[0] in ("409 Conflict", "400 Bad Request")
        assert lane_answer == django_answer
    assert stock_of(product) == 100


def test_a_keyed_order_and_its_replay_through_the_lane(lane, shop):
    alice, _bob, product = shop
    body = {"product_id": product.pk, "quantity": 1}
    token = alice.auth_token.key
    first = call(lane, "/orders/", body, token=token, HTTP_IDEMPOTENCY_KEY="k-1")
    again = call(lane, "/orders/", body, token=token, HTTP_IDEMPOTENCY_KEY="k-1")
    via_django = call(django_application, "/orders/", body, token=token, HTTP_IDEMPOTENCY_KEY="k-1")
    assert lane.spy.calls == 0
    assert first[0] == again[0] == via_django[0] == "201 Created"
    assert again[2] == via_django[2] == first[2]
    assert again[1] == via_django[1]
    assert ("Idempotent-Replayed", "true") in again[1]
    assert stock_of(product) == 99


def _twin_orders(customer, product) -> tuple[int, int]:
    placed = [services.order_place(customer=customer, lines=[(product.pk, 3)]) for _ in range(2)]
    return placed[0].order.pk, placed[1].order.pk


def twice(lane, action, customer, product, token):
    """The same action on twin orders, one through Django, one through the lane."""
    via_django, via_lane = _twin_orders(customer, product)
    django_answer = call(django_application, f"/orders/{via_django}/{action}", token=token)
    before = lane.spy.calls
    lane_answer = call(lane, f"/orders/{via_lane}/{action}", token=token)
    return django_answer, lane_answer, lane.spy.calls == before, (via_django, via_lane)


@pytest.mark.parametrize("action", ["pay", "cancel", "pay/", "cancel/"])
def test_pay_and_cancel_are_answered_by_the_lane_as_by_django(lane, shop, action):
    alice, _bob, product = shop
    django_answer, lane_answer, in_lane, ids = twice(
        lane, action, alice, product, alice.auth_token.key
    )
    assert in_lane
    assert django_answer[0] == "200 OK"
    assert without_id(lane_answer) == without_id(django_answer)
    statuses = set(Order.objects.filter(pk__in=ids).values_list("status", flat=True))
    assert statuses == {OrderStatus.PAID if action.startswith("pay") else OrderStatus.CANCELLED}
    # and doing it again is the same 409 both ways
    again = [
        call(app, f"/orders/{pk}/{action}", token=alice.auth_token.key)
        for app, pk in ((django_application, ids[0]), (lane, ids[1]))
    ]
    assert again[0][0] == "409 Conflict"
    assert without_id(again[1], ids[1]) == without_id(again[0], ids[0])


def test_another_customers_order_is_a_404_both_ways(lane, shop):
    alice, bob, product = shop
    django_answer, lane_answer, in_lane, _ids = twice(
        lane, "pay", alice, product, bob.auth_token.key
    )
    assert in_lane
    assert django_answer[0] == "404 Not Found"
    assert lane_answer == django_answer


@pytest.mark.parametrize(
    ("path", "body", "extra"),
    [
        ("/orders/", "both_forms", {}),  # a body with both forms: the DRF view's 400
        ("/orders/", "one", {"token": "not-a-real-token"}),  # a bad token: 401 from DRF
        ("/orders/", "one", {"token": None}),  # no token: 401
        ("/orders/", "one", {"QUERY_STRING": "format=json"}),  # DRF's own 404
        ("/orders/", "one", {"HTTP_ACCEPT": "text/html"}),  # DRF's 406
        ("/orders/", "one", {"HTTP_HOST": "evil.example"}),  # ALLOWED_HOSTS: 400
        ("/orders/", "one", {"HTTP_IDEMPOTENCY_KEY": ""}),  # an invalid key: 400
        ("/orders/", "broken", {}),  # a parse error: 400
        ("/orders/0/pay", None, {}),  # not an id: 404
        ("/orders/99999999999999999999/pay", None, {}),  # past 64 bits: 404
        ("/orders/1/pay", "one", {}),  # a body on pay: the view
        ("/products/", "one", {}),  # not a lane route
    ],
)
def test_what_the_fast_paths_do_not_answer_reaches_django_whole(lane, shop, path, body, extra):
    alice, _bob, product = shop
    bodies = {
        "one": {"product_id": product.pk, "quantity": 1},
        "both_forms": {"items": [{"product_id": product.pk, "quantity": 1}], "quantity": 1},
        "broken": None,
        None: None,
    }
    extra = dict(extra)
    token = extra.pop("token", alice.auth_token.key)
    raw = b'{"product_id": ' if body == "broken" else None
    django_answer, lane_answer, in_lane = both(
        lane, path, bodies[body], raw=raw, token=token, **extra
    )
    assert not in_lane
    assert without_id(lane_answer) == without_id(django_answer)


def test_an_oversized_or_chunked_body_goes_to_django(lane, shop):
    alice, _bob, product = shop
    big = b'{"product_id": 1, "quantity": 1}' + b" " * (1024 * 1024)
    django_answer, lane_answer, in_lane = both(
        lane, "/orders/", raw=big, token=alice.auth_token.key
    )
    assert not in_lane
    assert django_answer[0] == lane_answer[0] == "413 Request Entity Too Large"


def test_a_body_that_cannot_be_read_gets_djangos_answer(lane, shop):
    alice, _bob, _product = shop
    from django.test import RequestFactory

    from shop.wsgi import django_application
    from tests.support.lane import run_wsgi

    class CutShort(io.BytesIO):
        def read(self, *args):
            raise OSError("client gone")

    def environ():
        made = (
            RequestFactory()
            .post(
                "/orders/",
                b'{"product_id": 1, "quantity": 1}',
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Token {alice.auth_token.key}",
                HTTP_X_REQUEST_ID="cut-short",
            )
            .environ
        )
        made["wsgi.input"] = CutShort()
        return made

    django_answer = run_wsgi(django_application, environ())
    lane_answer = run_wsgi(lane, environ())
    assert lane.spy.calls == 0
    assert lane_answer == django_answer
    assert orjson.loads(lane_answer[2])["error"]["code"] == "server_error"


@pytest.mark.parametrize("failing", ["the order", "the token lookup"])
def test_a_database_outage_is_a_503_both_ways(lane, shop, monkeypatch, failing):
    alice, _bob, product = shop
    from accounts.authentication import StrictTokenAuthentication

    def down(*_args, **_kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    if failing == "the order":
        monkeypatch.setattr(services, "order_place", down)
    else:
        monkeypatch.setattr(StrictTokenAuthentication, "authenticate_credentials", down)
    body = {"product_id": product.pk, "quantity": 1}
    django_answer, lane_answer, in_lane = both(lane, "/orders/", body, token=alice.auth_token.key)
    assert in_lane
    assert django_answer[0] == "503 Service Unavailable"
    assert lane_answer == django_answer


def test_the_lane_sends_the_request_signals_once_each(lane, shop):
    alice, _bob, product = shop
    seen = []

    def started(sender, **_kwargs):
        seen.append("started")

    def finished(sender, **_kwargs):
        seen.append("finished")

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    try:
        body = {"product_id": product.pk, "quantity": 1}
        status, _headers, _body = call(lane, "/orders/", body, token=alice.auth_token.key)
    finally:
        signals.request_started.disconnect(started)
        signals.request_finished.disconnect(finished)
    assert status == "201 Created"
    assert lane.spy.calls == 0
    assert seen == ["started", "finished"]


def test_middleware_the_lane_does_not_know_turns_it_off(settings, shop):
    alice, _bob, product = shop
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "django.middleware.gzip.GZipMiddleware"]
    spy = Spy()
    app = FastLane(spy, lambda: routes_of(get_resolver().url_patterns))
    status, _headers, _body = call(
        app, "/orders/", {"product_id": product.pk, "quantity": 1}, token=alice.auth_token.key
    )
    assert status == "201 Created"
    assert spy.calls == 1


def test_the_routes_are_the_urlconfs_views_with_a_fast_path():
    routes = routes_of(get_resolver().url_patterns)
    found = sorted({(route.method, route.handler.__qualname__, route.allow) for route in routes})
    assert found == [
        ("GET", "ProductDetailApi.fast_get", "GET, PATCH, DELETE, HEAD, OPTIONS"),
        ("GET", "ProductListApi.fast_get", "GET, POST, HEAD, OPTIONS"),
        ("POST", "OrderCancelApi.fast_post", "POST, OPTIONS"),
        ("POST", "OrderListApi.fast_post", "GET, POST, HEAD, OPTIONS"),
        ("POST", "OrderPayApi.fast_post", "POST, OPTIONS"),
    ]
    assert len(routes) == 10  # each with and without its slash
