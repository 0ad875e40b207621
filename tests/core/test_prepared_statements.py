"""On PostgreSQL the server binds the parameters and psycopg prepares the statements the shop runs
again and again (shop/settings.py, DB_PREPARE_THRESHOLD); 0 turns preparing off."""

import pytest
from django.conf import settings
from django.db import connection

from tests.config.helpers import PYTHON, clean_env, run

PG_URL = "postgres://shop@127.0.0.1:5432/shop"
SHOW_OPTIONS = (
    "import django; django.setup(); from django.conf import settings; "
    "options = settings.DATABASES['default']['OPTIONS']; "
    "print(options.get('server_side_binding'), options.get('prepare_threshold'))"
)


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db(transaction=True)
def test_an_orders_statements_are_prepared_once_it_has_run_a_few_times(
    customer_client, make_product
):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no prepared statements to see")
    product = make_product(stock=100)
    body = {"product_id": product.id, "quantity": 1}

    for _ in range(settings.DB_PREPARE_THRESHOLD + 1):
        assert customer_client.post("/orders/", body, format="json").status_code == 201

    prepared = prepared_statements()
    assert any(sql.startswith('UPDATE "inventory_product" SET "stock"') for sql in prepared)
    assert any(sql.startswith('INSERT INTO "orders_order"') for sql in prepared)
    assert any(sql.startswith('INSERT INTO "orders_orderline"') for sql in prepared)
    # and what they stored is what the API answers
    product.refresh_from_db()
    assert product.stock == 100 - (settings.DB_PREPARE_THRESHOLD + 1)


@pytest.mark.parametrize(
    ("value", "expected"), [(None, "True 5"), ("0", "True None"), ("2", "True 2")]
)
def test_the_threshold_comes_from_the_environment(tmp_path, value, expected):
    env = clean_env(tmp_path, DATABASE_URL=PG_URL, DJANGO_SETTINGS_MODULE="shop.settings")
    if value is not None:
        env["DB_PREPARE_THRESHOLD"] = value
    result = run([PYTHON, "-c", SHOW_OPTIONS], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == expected.split()


def test_a_negative_threshold_is_one_line_before_anything_happens(tmp_path):
    env = clean_env(tmp_path, DATABASE_URL=PG_URL, DB_PREPARE_THRESHOLD="-1")
    result = run([PYTHON, "manage.py", "check"], env)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert "configuration error" in lines[0] and "DB_PREPARE_THRESHOLD" in lines[0]
    assert "Traceback" not in result.stderr
