"""Settings for the shop service: one module, every knob read from the environment.

DATABASE_URL selects PostgreSQL (psycopg 3); without it an embedded SQLite file is used, tuned for
concurrent writers (WAL, IMMEDIATE transactions, a busy timeout).

The environment is parsed by environs (typed values, one clear error naming the variable), which
hands DATABASE_URL to dj-database-url. A bad value raises ImproperlyConfigured or environs'
EnvError here; manage.py and gunicorn.conf.py turn either into one line on stderr (shop/startup.py).
Importing this module creates nothing on disk.
"""

import importlib.util
import os
import re
import warnings
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from environs import Env

BASE_DIR = Path(__file__).resolve().parent.parent

env = Env()  # eager: the first bad variable stops the import with its name in the message


def is_set(name: str) -> bool:
    """An empty variable (`FOO=` in a compose file) counts as unset, so its default applies."""
    return bool(os.environ.get(name, "").strip())


def env_bool(name: str, default: bool = False) -> bool:
    """1/true/yes/on or 0/false/no/off (any case); anything else is an error naming `name`."""
    return env.bool(name) if is_set(name) else default


def env_int(name: str, default: int) -> int:
    return env.int(name) if is_set(name) else default


def env_str(name: str, default: str = "") -> str:
    return env.str(name).strip() if is_set(name) else default


def env_list(name: str, default: str) -> list[str]:
    """A comma-separated list, items stripped, empty items dropped."""
    items = env.list(name) if is_set(name) else default.split(",")
    return [item.strip() for item in items if item.strip()]


# The development default is deliberately marked insecure so that `check --deploy` flags it.
SECRET_KEY = env_str("SECRET_KEY", "django-insecure-development-key-set-SECRET_KEY-in-production")
DEBUG = env_bool("DEBUG")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
VERSION = "1.0.0"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "shop",
    "core",
    "accounts",
    "inventory",
    "orders",
    "loadtesting",
]

MIDDLEWARE = [
    "core.middleware.RequestIdMiddleware",
    "core.middleware.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "shop.urls"
WSGI_APPLICATION = "shop.wsgi.application"
# Clients POST to /orders/42/pay: a redirect to the slashed URL would lose the body.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------

SQLITE_PATH = Path(env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")))
DB_CONNECT_TIMEOUT = env_int("DB_CONNECT_TIMEOUT", 2)  # seconds; well under gunicorn's timeout
DB_LOCK_TIMEOUT_MS = env_int("DB_LOCK_TIMEOUT_MS", 3000)
DB_STATEMENT_TIMEOUT_MS = env_int("DB_STATEMENT_TIMEOUT_MS", 5000)
# PostgreSQL: a statement run this many times on a connection is prepared (psycopg's default);
# 0 prepares none, for a pooler that cannot keep them (PgBouncer in transaction mode).
DB_PREPARE_THRESHOLD = env_int("DB_PREPARE_THRESHOLD", 5)
SQLITE_BUSY_TIMEOUT = env_int("SQLITE_BUSY_TIMEOUT", 5)  # seconds

# The engines the shop is built and tested for, and the module each needs.
DATABASE_DRIVERS = {
    "django.db.backends.postgresql": ("PostgreSQL", ("psycopg", "psycopg2"), "psycopg[binary]"),
    "django.db.backends.sqlite3": ("SQLite", ("sqlite3",), "a Python built with sqlite3"),
}
DATABASE_URL_HELP = (
    "use postgres://user:password@host:5432/name, or leave DATABASE_URL unset for the embedded"
    " SQLite file at SQLITE_PATH"
)


def database_from_url(url: str) -> dict:
    """DATABASE_URL as Django's database dict; ImproperlyConfigured, never echoing the URL
    (it may hold a password), when it is no URL, names an engine the shop does not run on or
    one whose driver is not installed."""
    scheme = url.split("://", 1)[0] if "://" in url else ""
    try:
        db = env.dj_db_url("DATABASE_URL", conn_max_age=600, conn_health_checks=True)
    except Exception:  # environs' EnvError, or dj-database-url's own on odd input
        raise ImproperlyConfigured(
            f"DATABASE_URL is not a database URL: {DATABASE_URL_HELP}."
        ) from None
    if db["ENGINE"] not in DATABASE_DRIVERS:
        raise ImproperlyConfigured(
            f"DATABASE_URL scheme {scheme}:// is not supported (the shop runs on PostgreSQL or"
            f" SQLite): {DATABASE_URL_HELP}."
        )
    name, modules, install = DATABASE_DRIVERS[db["ENGINE"]]
    if not any(importlib.util.find_spec(module) for module in modules):
        raise ImproperlyConfigured(
            f"DATABASE_URL is {name}, but its driver is not installed: pip install {install}"
            " (requirements/base.txt)."
        )
    return db


if is_set("DATABASE_URL"):
    default_db = database_from_url(env_str("DATABASE_URL"))
    if default_db["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend, but the per-request health check is a poll of the socket, not a
        # SELECT 1 round trip; a connection broken while idle is still replaced (core/db).
        default_db["ENGINE"] = "core.db.postgresql"
        default_db.setdefault("OPTIONS", {})
        default_db["OPTIONS"].setdefault("connect_timeout", DB_CONNECT_TIMEOUT)
        # TCP keepalives: a connection whose packets silently vanish (a crashed host, a firewall
        # that forgot it) fails after ~8 s of silence instead of hanging the worker; the URL may
        # override each (?keepalives=0); tests/faults/test_dropped_connection.py shows it.
        for option, value in (
            ("keepalives", 1),
            ("keepalives_idle", 5),
            ("keepalives_interval", 1),
            ("keepalives_count", 3),
        ):
            default_db["OPTIONS"].setdefault(option, value)
        # A stuck transaction must not pile every worker up behind a hot row: give up and 503.
        default_db["OPTIONS"].setdefault(
            "options",
            f"-c lock_timeout={DB_LOCK_TIMEOUT_MS} -c statement_timeout={DB_STATEMENT_TIMEOUT_MS}"
            " -c idle_in_transaction_session_timeout=60000",
        )
        # Parameters bound by the server, not quoted into the SQL by the client, so that psycopg
        # can prepare what the shop runs all the time (an order's five statements, the token and
        # product reads): PostgreSQL then skips parsing and planning them, about a quarter of its
        # CPU per order (README, Performance). Django's default is client-side binding.
        default_db["OPTIONS"].setdefault("server_side_binding", True)
        if DB_PREPARE_THRESHOLD < 0:
            raise ImproperlyConfigured("DB_PREPARE_THRESHOLD must be 0 (off) or more.")
        default_db["OPTIONS"].setdefault("prepare_threshold", DB_PREPARE_THRESHOLD or None)
        default_db.setdefault("TEST", {})
else:
    default_db = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": SQLITE_PATH,
        "CONN_MAX_AGE": 600,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            # Writers take the lock at BEGIN, so two writers never deadlock upgrading a read lock.
            "transaction_mode": "IMMEDIATE",
            "timeout": SQLITE_BUSY_TIMEOUT,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
        # Thread races need a real file: the in-memory shared-cache database uses table locks.
        "TEST": {"NAME": env_str("SQLITE_TEST_PATH", str(BASE_DIR / "test_db.sqlite3"))},
    }

DATABASES = {"default": default_db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (login throttling, product pages) --------------------------------------------------

REDIS_URL = env_str("REDIS_URL", "")

if REDIS_URL:
    CACHES = {
        "default": {
            # Django's backend, with one redis client per pool instead of one per call. Not
            # django-redis: interleaved get/set round trips against a local Redis measured this
            # one 1-9 % faster (71 vs 72, 107 vs 117, 127 vs 131 µs), and it is one package less.
            "BACKEND": "core.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "shop"),
            "TIMEOUT": 300,
            # An unreachable Redis must fail fast (a login answers 503), never hang a worker.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth, i18n, static -----------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# Serve admin and API-docs assets straight from the apps, so a fresh clone needs no collectstatic
# (deployments still run it, and then STATIC_ROOT is used). Until collectstatic has made
# STATIC_ROOT, WhiteNoise warns that it is missing: expected here, so not said.
WHITENOISE_USE_FINDERS = True
warnings.filterwarnings("ignore", message=f"No directory at: {re.escape(str(STATIC_ROOT))}")

# --- Request limits and security --------------------------------------------------------------

MAX_REQUEST_BODY_BYTES = 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY") else None
)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT")
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES")
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

# The load-test reports `GET /` links to (core/landing.py); the harness writes them here.
LOADTEST_RESULTS_DIR = BASE_DIR / "load_test_results"

# --- Domain -----------------------------------------------------------------------------------

ORDER_HOLD_MINUTES = env_int("ORDER_HOLD_MINUTES", 15)
IDEMPOTENCY_KEY_TTL_HOURS = env_int("IDEMPOTENCY_KEY_TTL_HOURS", 24)
LOGIN_THROTTLE_RATE = env_str("LOGIN_THROTTLE_RATE", "10/min")
# Product reads are cached this long at most, and invalidated by every product write once it
# commits (inventory/cache.py), so this bounds staleness only while the cache cannot be written.
# Only with a version that every worker shares: in Redis, or beside an SQLite database.
EMBEDDED_DATABASE = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
PRODUCT_CACHE_SECONDS = env_int(
    "PRODUCT_CACHE_SECONDS", 10 if REDIS_URL or EMBEDDED_DATABASE else 0
)
# Each worker answers an anonymous product page it has just served again for this long without
# asking the cache (core/page_cache.py): such a page may be this much older than a write.
PRODUCT_PAGE_MEMO_MS = env_int("PRODUCT_PAGE_MEMO_MS", 100 if PRODUCT_CACHE_SECONDS > 0 else 0)
# A list page is stored in the shared cache only under a catalogue version at least this old
# (inventory/cache.py): while orders replace it every few milliseconds, a stored page dies unread.
PRODUCT_LIST_STORE_MIN_AGE_MS = env_int("PRODUCT_LIST_STORE_MIN_AGE_MS", 50)
# Token → user lookups are cached this long at most; logout, deactivation and any change of the
# user or token invalidate at once (accounts/token_cache.py). Also only where every worker sees
# the invalidation: in Redis, or through a stamp beside an SQLite database
# (accounts/embedded_token_cache.py).
AUTH_TOKEN_CACHE_SECONDS = env_int(
    "AUTH_TOKEN_CACHE_SECONDS", 60 if REDIS_URL or EMBEDDED_DATABASE else 0
)

# --- REST framework ---------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.StrictTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["core.json.FastJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.json.StrictJSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "core.negotiation.ShopContentNegotiation",
    "EXCEPTION_HANDLER": "core.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"login_failures": LOGIN_THROTTLE_RATE},
    # Throttle by the peer address; X-Forwarded-For is trusted only from a known proxy count,
    # else a client dodges the login throttle by sending a new forged address each try.
    "NUM_PROXIES": env_int("NUM_PROXIES", 1 if env_bool("BEHIND_TLS_PROXY") else 0),
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "COERCE_DECIMAL_TO_STRING": True,
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%SZ",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Shop API",
    "DESCRIPTION": "Inventory and orders that never oversell.",
    "VERSION": VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["shop.schema.one_form_per_route"],
    "ENUM_NAME_OVERRIDES": {"OrderStatusEnum": "orders.models.OrderStatus"},
}

# --- Logging ----------------------------------------------------------------------------------

LOG_FILE = env_str("LOG_FILE", "")
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
# One line per request (status, size, time, request id). gunicorn writes it (its access log,
# also into LOG_FILE: shop/gunicorn_logging.py); `manage.py runserver` sets REQUEST_LOG=1 so the
# application writes the same line itself (core/request_log.py). Not both: no request twice.
REQUEST_LOG = env_bool("REQUEST_LOG")

_log_handlers: dict[str, dict] = {
    "console": {
        "class": "logging.StreamHandler",
        "formatter": "plain",
        "filters": ["request_id"],
    }
}
if LOG_FILE:
    _log_handlers["file"] = {
        "class": "logging.handlers.WatchedFileHandler",
        "filename": LOG_FILE,
        "formatter": "plain",
        "filters": ["request_id"],
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "core.middleware.RequestIdLogFilter"},
        "no_server_request_lines": {"()": "core.request_log.DropServerRequestLines"},
    },
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s",
        }
    },
    "handlers": _log_handlers,
    "root": {"handlers": list(_log_handlers), "level": LOG_LEVEL},
    "loggers": {
        # Every request is in the access log above; core/errors.py logs 5xx (with the traceback)
        # and database-unavailable 503s with the request id. Django's request logger would repeat
        # those without it.
        "django.request": {"level": "CRITICAL", "propagate": True},
        # The development server's own request lines lack the request id and the time: with
        # REQUEST_LOG they are dropped for core/request_log.py's; its other messages stay.
        "django.server": {
            "level": "INFO" if REQUEST_LOG else "WARNING",
            "filters": ["no_server_request_lines"] if REQUEST_LOG else [],
        },
        "shop.access": {"level": "INFO"},
    },
}
