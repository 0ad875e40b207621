"""Product reads with a token answered before Django's handler (inventory/fast_reads.py through
core/fast_lane.py) get what Django and the DRF views give: status, body and every header. What
the fast path leaves alone (no token, a bad one, an unusual Accept, `?format=`, a body) reaches
Django, and a read after a write shows the write.
"""

from decimal import Decimal

import orjson
import pytest

from orders import services as order_services
from tests.conftest import make_user
from tests.support.lane import both, call, spied_lane

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("cached")]


@pytest.fixture
def cached(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.PRODUCT_CACHE_SECONDS = 30
    settings.PRODUCT_PAGE_MEMO_MS = 0


@pytest.fixture
def lane():
    return spied_lane()


@pytest.fixture
def shop(make_product):
    alice = make_user("alice")
    products = [make_product(price=Decimal(f"{n}.25"), stock=n) for n in range(0, 7)]
    return alice, products


def read(lane, path, token, **extra):
    return both(lane, path, method="GET", token=token, **extra)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?page_size=2",
        "?page_size=2&page=2",
        "?page_size=2&page=4",  # the last page, shorter: no COUNT(*)
        "?in_stock=true",
        "?in_stock=false",
        "?search=widget&page_size=3",
        "?sku=SKU-00003",
        "?unknown=ignored",
    ],
)
def test_a_product_list_page_is_answered_by_the_lane_as_by_django(lane, shop, query):
    alice, _products = shop
    for path in ("/products/", "/products"):
        django_answer, lane_answer, in_lane = read(lane, path + query, alice.auth_token.key)
        assert in_lane
        assert django_answer[0] == "200 OK"
        assert lane_answer == django_answer


@pytest.mark.parametrize(
    "query", ["?page=9", "?page=0", "?page_size=abc", "?in_stock=maybe", "?search=%00"]
)
def test_bad_list_parameters_get_the_same_error_from_the_lane(lane, shop, query):
    alice, _products = shop
    django_answer, lane_answer, in_lane = read(lane, "/products/" + query, alice.auth_token.key)
    assert in_lane
    assert django_answer[0] in ("400 Bad Request", "404 Not Found")
    assert lane_answer == django_answer


def test_a_product_is_answered_by_the_lane_as_by_django(lane, shop):
    alice, products = shop
    for path in (f"/products/{products[3].pk}", f"/products/{products[3].pk}/", "/products/999999"):
        django_answer, lane_answer, in_lane = read(lane, path, alice.auth_token.key)
        assert in_lane
        assert lane_answer == django_answer
    assert orjson.loads(lane_answer[2])["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("token", "extra"),
    [
        ("not-a-real-token", {}),  # DRF's 401
        (None, {}),  # anonymous: the page cache's, then Django's
        ("alice", {"HTTP_ACCEPT": "text/html"}),  # DRF's 406
        ("alice", {"QUERY_STRING": "format=json"}),  # DRF's format suffix
    ],
)
def test_reads_the_fast_path_leaves_alone_reach_django(lane, shop, token, extra):
    alice, products = shop
    token = alice.auth_token.key if token == "alice" else token
    path = f"/products/{products[1].pk}"
    django_answer, lane_answer, in_lane = read(lane, path, token, **extra)
    assert not in_lane
    assert lane_answer == django_answer


def test_a_read_with_a_body_reaches_django(lane, shop):
    alice, products = shop
    path = f"/products/{products[1].pk}"
    # a GET with a declared body: RequestFactory builds it as a POST, then the method is set
    before = lane.spy.calls
    status, _headers, _content = call(
        lane,
        path,
        raw=b"{}",
        token=alice.auth_token.key,
        REQUEST_METHOD="GET",
    )
    assert status == "200 OK"
    assert lane.spy.calls == before + 1


def test_a_cached_read_through_the_lane_shows_every_write(lane, shop):
    alice, products = shop
    token = alice.auth_token.key
    path = f"/products/{products[5].pk}"

    def stock_seen() -> tuple[int, int]:
        detail = orjson.loads(call(lane, path, method="GET", token=token)[2])
        page = orjson.loads(call(lane, "/products/", method="GET", token=token)[2])
        listed = next(p for p in page["products"] if p["id"] == products[5].pk)
        return detail["stock"], listed["stock"]

    assert stock_seen() == (5, 5)
    assert stock_seen() == (5, 5)  # now from the cache
    order_services.order_place(customer=alice, lines=[(products[5].pk, 2)])
    assert stock_seen() == (3, 3)
    assert lane.spy.calls == 0


@pytest.fixture
def redis_trips(redis_cache, monkeypatch):
    """The round trips to a real Redis (tests/inventory/conftest.py), by cache operation."""
    trips: list[str] = []
    client = redis_cache._cache
    for name in ("get", "get_many", "set", "add", "set_many", "delete", "set_all_to_int"):
        real = getattr(client, name)

        def counted(*args, _real=real, _name=name, **kwargs):
            trips.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(client, name, counted)
    return trips


@pytest.mark.parametrize("path", ["/products/{id}", "/products/", "/products/?in_stock=true"])
def test_a_cached_read_with_a_token_asks_redis_once(lane, shop, redis_trips, path):
    alice, products = shop
    path = path.format(id=products[3].pk)
    first = call(lane, path, method="GET", token=alice.auth_token.key)  # the token, the page stored
    redis_trips.clear()

    again = call(lane, path, method="GET", token=alice.auth_token.key)

    assert again[0] == "200 OK" and again[2] == first[2]
    assert redis_trips == ["get_many"]  # the token's entry, the page's versions and entry at once
    assert lane.spy.calls == 0


def test_a_revoked_token_is_refused_through_the_read_ahead(lane, shop, redis_trips):
    alice, products = shop
    path = f"/products/{products[3].pk}"
    assert call(lane, path, method="GET", token=alice.auth_token.key)[0] == "200 OK"
    token = alice.auth_token.key

    alice.auth_token.delete()  # logout: a tombstone over the token's entry

    django_answer, lane_answer, in_lane = read(lane, path, token)
    assert django_answer[0] == "401 Unauthorized"
    assert lane_answer == django_answer and not in_lane
