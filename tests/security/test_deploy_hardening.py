"""Production settings: `check --deploy` is clean, answers carry security headers, secrets stay
out of the logs, and the admin is behind its login.

The production environment is the one the README documents: DEBUG unset, a long random
SECRET_KEY, secure cookies, HSTS, TLS terminated by a proxy that sets X-Forwarded-Proto, HTTPS
redirects, one allowed host, and REDIS_URL so gunicorn's workers share the login throttle.
"""

import logging
import secrets
import subprocess
from unittest import mock

import pytest

from core.middleware import RequestIdLogFilter
from tests.support.databases import backend
from tests.support.django_process import PYTHON, ROOT, service_env
from tests.support.http_request import is_error_shape, request
from tests.support.serving import gunicorn

SECRET_KEY = secrets.token_urlsafe(64)
HOST = "shop.example.com"
PRODUCTION = {
    "SECRET_KEY": SECRET_KEY,
    "SECURE_COOKIES": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "BEHIND_TLS_PROXY": "1",
    "SECURE_SSL_REDIRECT": "1",
    "ALLOWED_HOSTS": HOST,
}
# Two deliberate choices on top, each silencing one warning that the README explains.
PRODUCTION_FULL = {
    **PRODUCTION,
    "SECURE_HSTS_PRELOAD": "1",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}
PASSWORD = "Tr0ub4dor-and-3-never-log-me"


def deploy_check(tmp_path, settings: dict[str, str]) -> subprocess.CompletedProcess:
    env = service_env(SQLITE_PATH=str(tmp_path / "check.sqlite3"), **settings)
    return subprocess.run(
        [PYTHON, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def warning_ids(done: subprocess.CompletedProcess) -> set[str]:
    import re

    return set(re.findall(r"\(([a-z_]+\.[A-Z]\d{3})\)", done.stdout + done.stderr))


@pytest.mark.slow
def test_deploy_check_is_clean_with_production_settings(tmp_path):
    done = deploy_check(tmp_path, PRODUCTION_FULL)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout + done.stderr


@pytest.mark.slow
def test_deploy_check_without_preload_and_redis_names_only_the_explained_warnings(tmp_path):
    done = deploy_check(tmp_path, PRODUCTION)
    # HSTS preload is the domain owner's commitment; a per-process throttle count is our check.
    assert warning_ids(done) == {"security.W021", "shop.W001"}, done.stderr


@pytest.mark.slow
def test_deploy_check_fails_on_development_defaults(tmp_path):
    done = deploy_check(tmp_path, {"DEBUG": "1"})
    assert done.returncode != 0
    assert {"security.W009", "security.W018", "security.W004", "security.W008"} <= warning_ids(done)


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    """gunicorn with production settings, logging everything (DEBUG level) to a file."""
    tmp = tmp_path_factory.mktemp("production")
    settings = {**PRODUCTION, "LOG_LEVEL": "DEBUG", "GUNICORN_LOG_LEVEL": "debug"}
    with backend("sqlite", tmp, **settings) as db:
        seed = db.seed
        with gunicorn(db.env, tmp / "gunicorn.log", workers=1, probe_headers=over_tls()) as server:
            yield server, seed


def over_tls(**headers: str) -> dict[str, str]:
    """What the TLS proxy adds in front of gunicorn."""
    return {"Host": HOST, "X-Forwarded-Proto": "https", **headers}


SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "strict-transport-security": "max-age=31536000; includeSubDomains",
}


@pytest.mark.slow
@pytest.mark.parametrize(
    "method, path, status",
    [
        ("GET", "/health", 200),
        ("GET", "/products/", 200),
        ("GET", "/nope", 404),
        ("GET", "/orders/", 401),
        ("POST", "/auth/token", 400),
        ("GET", "/admin/login/", 200),
    ],
)
def test_deploy_every_answer_carries_the_security_headers(production, method, path, status):
    server, _ = production
    reply = request(
        server.port, method, path, headers=over_tls(), body={} if method == "POST" else None
    )
    assert reply.status == status
    for name, value in SECURITY_HEADERS.items():
        assert reply.headers.get(name) == value, (path, name, reply.headers)
    assert "server-error" not in reply.body.decode(errors="replace")


@pytest.mark.slow
def test_deploy_plain_http_is_sent_to_https(production):
    server, _ = production
    reply = request(server.port, "GET", "/products/", headers={"Host": HOST})
    assert reply.status == 301
    assert reply.headers["location"] == f"https://{HOST}/products/"


@pytest.mark.slow
def test_deploy_unknown_host_is_refused_in_the_error_shape(production):
    server, _ = production
    reply = request(server.port, "GET", "/health", headers=over_tls(Host="evil.example.net"))
    assert reply.status == 400
    assert is_error_shape(reply, "invalid")


@pytest.mark.slow
def test_deploy_admin_is_behind_its_login(production):
    server, _ = production
    for path in ("/admin/", "/admin/inventory/product/", "/admin/orders/order/"):
        reply = request(server.port, "GET", path, headers=over_tls(Accept="text/html"))
        assert reply.status == 302, path
        assert reply.headers["location"].startswith("/admin/login/?next=")
    login_page = request(server.port, "GET", "/admin/login/", headers=over_tls(Accept="text/html"))
    cookie = login_page.headers.get("set-cookie", "")
    assert "csrftoken=" in cookie and "Secure" in cookie


@pytest.mark.slow
def test_deploy_secrets_never_reach_the_log(production):
    server, seed = production
    token = seed.customers[0]
    # given a failed login, authorised and refused requests, in a server logging at DEBUG level
    login = request(
        server.port,
        "POST",
        "/auth/token",
        body={"username": "customer0", "password": PASSWORD},
        headers=over_tls(),
    )
    orders = request(server.port, "GET", "/orders/", token=token, headers=over_tls())
    forged = request(server.port, "GET", "/orders/", token=token[::-1], headers=over_tls())
    placed = request(
        server.port,
        "POST",
        "/orders/",
        body={"product_id": seed.products[0], "quantity": 1},
        token=token,
        headers=over_tls(),
    )
    assert (login.status, orders.status, forged.status, placed.status) == (401, 200, 401, 201)

    # then neither the password, the tokens nor the secret key appear in what was logged
    log = server.output()
    assert "POST /auth/token" in log  # the access log did see these requests
    for secret in (PASSWORD, token, token[::-1], SECRET_KEY):
        assert secret not in log
    for reply in (login, orders, forged, placed):
        assert PASSWORD.encode() not in reply.body and SECRET_KEY.encode() not in reply.body


@pytest.mark.django_db
def test_deploy_a_server_error_logs_the_fault_but_no_secrets(customer, caplog, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from tests.conftest import client_for

    client = client_for(customer)
    client.raise_request_exception = False
    token = customer.auth_token.key
    caplog.handler.addFilter(RequestIdLogFilter())  # as every handler of ours does
    with (
        mock.patch("orders.apis.selectors.order_list", side_effect=RuntimeError("boom")),
        caplog.at_level(logging.DEBUG),
    ):
        response = client.get("/orders/", HTTP_X_REQUEST_ID="req-deploy-1")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"
    assert "boom" not in response.content.decode()  # no internals to the client
    logged = caplog.text
    assert "boom" in logged
    # The request id, which the client also got, ties the fault to its request.
    assert response["X-Request-ID"] == "req-deploy-1"
    [fault] = [r for r in caplog.records if r.getMessage() == "server error"]
    assert fault.request_id == "req-deploy-1"
    assert token not in logged and settings.SECRET_KEY not in logged
    assert "Authorization" not in logged


@pytest.mark.slow
def test_deploy_check_warns_when_cross_worker_caches_are_per_process(tmp_path):
    # Asked for without Redis, the product and token caches could not be invalidated in the
    # other workers: a revoked token would still open them.
    done = deploy_check(
        tmp_path, {**PRODUCTION, "PRODUCT_CACHE_SECONDS": "2", "AUTH_TOKEN_CACHE_SECONDS": "60"}
    )
    # On the embedded SQLite database both caches are invalidated through stamps in files beside
    # it that every worker maps (inventory/cache.py, accounts/embedded_token_cache.py): no W002.
    assert warning_ids(done) == {"security.W021", "shop.W001"}, done.stderr
    assert "AUTH_TOKEN_CACHE_SECONDS" not in done.stdout + done.stderr
    assert "PRODUCT_CACHE_SECONDS" not in done.stdout + done.stderr
    # On PostgreSQL without Redis the product cache has no shared version: both are named.
    done = deploy_check(
        tmp_path,
        {
            **PRODUCTION,
            "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
            "PRODUCT_CACHE_SECONDS": "2",
            "AUTH_TOKEN_CACHE_SECONDS": "60",
        },
    )
    assert "shop.W002" in warning_ids(done), done.stderr
    assert "PRODUCT_CACHE_SECONDS and AUTH_TOKEN_CACHE_SECONDS" in done.stdout + done.stderr
