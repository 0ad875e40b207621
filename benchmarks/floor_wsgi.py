"""The Python floor: a one-line order's work written against psycopg directly, no framework.

Served by the same gunicorn settings as the shop (`gunicorn -c gunicorn.conf.py
benchmarks.floor_wsgi:application`, DATABASE_URL a PostgreSQL URL), so the shop's server CPU per
order over this app's is what Django, DRF and the ORM cost on top of the work itself:

    token lookup      with REDIS_URL: GET the token's entry (its SHA-256), and on a miss
                      the SELECT below, remembered (SET NX EX); else only
                      SELECT the active user of the Authorization: Token key
    product read      SELECT sku, price
    the order         BEGIN; INSERT order; INSERT line;
                      UPDATE stock = stock - n WHERE id = ... AND stock >= n; COMMIT
    after the commit  with REDIS_URL: the catalogue's and the product's versions replaced,
                      both in one round trip (EVALSHA of the shop's script, SET EX each)

and the shop's JSON: 201 with the order, 409 insufficient_stock (nothing written) when the
conditional UPDATE takes no row, 400 / 401 / 404 / 503 in the shop's error shape.

The Redis work is the shop's own with Redis (issue 9 defines the floor as the same work: token
from Redis, the catalogue version in Redis): the shop then reads its token cache
(accounts/token_cache.py) and replaces those versions once an order commits
(inventory/cache.py). Without REDIS_URL the shop caches no token on PostgreSQL and replaces no
version in Redis, and the floor does neither. Its keys are under CACHE_KEY_PREFIX, as the shop's
are, so the bench's clean-up removes both; a Redis error falls back to the database, as the
shop's cache does. One connection of each per worker process, opened at the first request.
`GET /health` answers once `SELECT 1` does.
"""

import hashlib
import os
import secrets
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import orjson
import psycopg
import redis

MAX_BODY = 64 * 1024
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
STATUS_LINES = {
    200: "200 OK",
    201: "201 Created",
    400: "400 Bad Request",
    401: "401 Unauthorized",
    404: "404 Not Found",
    409: "409 Conflict",
    503: "503 Service Unavailable",
}
TOKEN_SQL = (
    "SELECT t.user_id FROM authtoken_token t JOIN auth_user u ON u.id = t.user_id "
    "WHERE t.key = %s AND u.is_active"
)
PRODUCT_SQL = "SELECT sku, price FROM inventory_product WHERE id = %s"
ORDER_SQL = (
    "INSERT INTO orders_order (customer_id, status, total, created_at, expires_at, paid_at, "
    "cancelled_at, idempotency_key, request_digest) VALUES "
    "(%s, 'pending', %s, %s, %s, NULL, NULL, '', '') RETURNING id"
)
LINE_SQL = (
    "INSERT INTO orders_orderline (order_id, product_id, quantity, unit_price) "
    "VALUES (%s, %s, %s, %s)"
)
TAKE_SQL = (
    "UPDATE inventory_product SET stock = stock - %s, updated_at = %s WHERE id = %s AND stock >= %s"
)
STOCK_SQL = "SELECT stock FROM inventory_product WHERE id = %s"
# The shop's defaults: AUTH_TOKEN_CACHE_SECONDS with Redis, inventory.cache.VERSION_TTL_SECONDS.
TOKEN_SECONDS = 60
VERSION_SECONDS = 24 * 3600
# core/redis_cache.py's script. EVALSHA straight from the client: measured, the cheapest of it,
# a Script object and a pipeline of SETs (60, 68 and 87 us of client CPU).
SET_ALL_EXPIRING = (
    "for _, key in ipairs(KEYS) do redis.call('SET', key, ARGV[1], 'EX', ARGV[2]) end"
)
SET_ALL_EXPIRING_SHA = hashlib.sha1(SET_ALL_EXPIRING.encode()).hexdigest()


class Answer(Exception):
    """An error answer: the shop's {"error": {"code", "message", "details"}}."""

    def __init__(self, status: int, code: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.status = status
        self.body = {"error": {"code": code, "message": message, "details": details or {}}}


def when(value: datetime) -> str:
    return value.astimezone(UTC).strftime(TIME_FORMAT)


def money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):f}"


def order_body(raw: bytes) -> tuple[int, int]:
    """(product_id, quantity) of a one-line order body, or a 400."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise Answer(400, "parse_error", "The request body is not valid JSON.") from None
    fields = (data.get("product_id"), data.get("quantity")) if isinstance(data, dict) else ()
    if len(fields) != 2 or not all(type(v) is int and v >= 1 for v in fields):
        raise Answer(400, "invalid", "Send a positive integer product_id and quantity.")
    return fields[0], fields[1]


class Floor:
    """The app: one psycopg connection per process, made on first use."""

    def __init__(self, dsn: str, hold_minutes: int, redis_url: str = "", key_prefix: str = "shop"):
        self.dsn = dsn
        self.hold = hold_minutes
        self.conn: psycopg.Connection | None = None
        self.pid = 0
        self.redis_url = redis_url
        self.key_prefix = key_prefix
        self.redis_client: redis.Redis | None = None
        self.redis_pid = 0

    def connection(self) -> psycopg.Connection:
        if self.conn is None or self.conn.closed or self.pid != os.getpid():
            self.conn = psycopg.connect(self.dsn, autocommit=True)
            self.pid = os.getpid()
        return self.conn

    def redis(self) -> redis.Redis | None:
        """The cache's client, None without REDIS_URL."""
        if not self.redis_url:
            return None
        if self.redis_client is None or self.redis_pid != os.getpid():
            self.redis_client = redis.Redis.from_url(self.redis_url)
            self.redis_pid = os.getpid()
        return self.redis_client

    def key(self, name: str) -> str:
        return f"{self.key_prefix}:floor:{name}"

    def customer(self, cur: psycopg.Cursor, header: str) -> int:
        scheme, _, key = header.partition(" ")
        if scheme != "Token" or not key:
            raise Answer(401, "not_authenticated", "Authentication credentials were not provided.")
        cache = self.redis()
        if cache is None:
            return self.token_user(cur, key)
        entry = self.key("token:" + hashlib.sha256(key.encode()).hexdigest())
        try:
            cached = cache.get(entry)
        except redis.RedisError:
            return self.token_user(cur, key)
        if cached is not None:
            return int(cached)
        user_id = self.token_user(cur, key)
        try:
            cache.set(entry, user_id, ex=TOKEN_SECONDS, nx=True)
        except redis.RedisError:
            pass
        return user_id

    @staticmethod
    def token_user(cur: psycopg.Cursor, key: str) -> int:
        row = cur.execute(TOKEN_SQL, (key,)).fetchone()
        if row is None:
            raise Answer(401, "authentication_failed", "Invalid token.")
        return row[0]

    def versions_replaced(self, product_id: int) -> None:
        """The catalogue's and the product's versions, replaced in one round trip."""
        cache = self.redis()
        if cache is None:
            return
        version = secrets.randbits(64)
        names = (self.key("products:version"), self.key(f"products:version:{product_id}"))
        try:
            try:
                cache.evalsha(SET_ALL_EXPIRING_SHA, len(names), *names, version, VERSION_SECONDS)
            except redis.exceptions.NoScriptError:
                cache.script_load(SET_ALL_EXPIRING)
                cache.evalsha(SET_ALL_EXPIRING_SHA, len(names), *names, version, VERSION_SECONDS)
        except redis.RedisError:
            pass  # the shop's cached pages expire by themselves then

    def place(self, header: str, raw: bytes) -> dict:
        """The order's work; the order as the shop answers it, or an Answer."""
        conn = self.connection()
        with conn.cursor() as cur:
            customer = self.customer(cur, header)
            product_id, quantity = order_body(raw)
            product = cur.execute(PRODUCT_SQL, (product_id,)).fetchone()
            if product is None:
                details = {"product_id": ["No such product."]}
                raise Answer(400, "invalid", "Invalid input.", details)
            sku, price = product
            total = price * quantity
            now = datetime.now(UTC)
            expires = now + timedelta(minutes=self.hold)
            with conn.transaction():
                order_id = cur.execute(ORDER_SQL, (customer, total, now, expires)).fetchone()[0]
                cur.execute(LINE_SQL, (order_id, product_id, quantity, price))
                cur.execute(TAKE_SQL, (quantity, now, product_id, quantity))
                taken = cur.rowcount == 1
                if not taken:
                    raise psycopg.Rollback()
            if not taken:
                available = (cur.execute(STOCK_SQL, (product_id,)).fetchone() or (0,))[0]
                details = {"product_id": product_id, "requested": quantity, "available": available}
                raise Answer(409, "insufficient_stock", f"Only {available} left of {sku}", details)
        self.versions_replaced(product_id)
        return {
            "id": order_id,
            "status": "pending",
            "items": [
                {
                    "product_id": product_id,
                    "sku": sku,
                    "quantity": quantity,
                    "unit_price": money(price),
                }
            ],
            "total": money(total),
            "created_at": when(now),
            "expires_at": when(expires),
            "paid_at": None,
            "cancelled_at": None,
        }

    def health(self) -> dict:
        self.connection().execute("SELECT 1")
        return {"status": "ok"}

    def answer(self, environ: dict) -> tuple[int, dict]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        try:
            if path == "/orders/" and method == "POST":
                length = environ.get("CONTENT_LENGTH") or "0"
                size = int(length) if length.isdigit() else 0
                if size > MAX_BODY:
                    raise Answer(400, "invalid", f"The body is over {MAX_BODY} bytes.")
                raw = environ["wsgi.input"].read(size)
                return 201, self.place(environ.get("HTTP_AUTHORIZATION", ""), raw)
            if path == "/health" and method == "GET":
                return 200, self.health()
            raise Answer(404, "not_found", "The floor answers POST /orders/ and GET /health.")
        except Answer as answer:
            return answer.status, answer.body
        except psycopg.Error as exc:
            if self.conn is not None and self.conn.broken:
                self.conn = None
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return 503, Answer(503, "unavailable", message).body

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        status, data = self.answer(environ)
        body = orjson.dumps(data)
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        start_response(STATUS_LINES[status], headers)
        return [body]


def make_app(
    dsn: str | None = None, hold_minutes: int | None = None, redis_url: str | None = None
) -> Floor:
    """The floor on `dsn` (default DATABASE_URL), holding orders ORDER_HOLD_MINUTES (15), with
    the token cache and catalogue versions in `redis_url` (default REDIS_URL; "" for none)."""
    env = os.environ
    hold = hold_minutes if hold_minutes is not None else int(env.get("ORDER_HOLD_MINUTES", 15))
    return Floor(
        dsn or env.get("DATABASE_URL", ""),
        hold,
        redis_url=env.get("REDIS_URL", "") if redis_url is None else redis_url,
        key_prefix=env.get("CACHE_KEY_PREFIX") or "shop",
    )


application = make_app()
