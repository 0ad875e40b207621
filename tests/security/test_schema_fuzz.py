"""Schemathesis over /api/schema/: generated requests find no 5xx and no answer the schema denies.

Every operation is fuzzed with valid and invalid data (bounded examples, no deadline), as staff so
product writes get past permissions. Positive path ids are mapped onto objects that exist, so the
happy paths run too, not only 404s. Each response is checked against the schema: a documented
status code, a JSON content type, a body that fits the documented shape, and never a 5xx.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config._checks import (
    POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES,
    PositiveDataAcceptanceConfig,
)
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection

from shop.wsgi import application
from tests.conftest import make_user

MAX_EXAMPLES = 25


# Loading the schema needs no database (an anonymous GET of a generated document), so it happens
# at collection. (schemathesis.pytest.from_fixture would defer it, but it does not run on pytest 9.)
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=MAX_EXAMPLES,
    deterministic=True,
)
# A valid order body can still meet an Idempotency-Key an earlier example used with another body.
schema.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
    expected_statuses=[*POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES, "422"]
)


@pytest.fixture
def world(transactional_db, settings):
    """A staff user (with an order of their own) and products the fuzzer can find by id."""
    from decimal import Decimal

    from inventory.services import product_create
    from orders.services import order_place

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    staff = make_user("fuzz-staff", staff=True)
    products = [
        product_create(sku=f"FUZZ-{i}", name=f"Fuzz {i}", price=Decimal("1.25"), stock=10**6)
        for i in range(3)
    ]
    orders = [order_place(customer=staff, lines=[(products[0].pk, 1)]).order for _ in range(3)]
    return {
        "token": staff.auth_token.key,
        "product_id": [p.pk for p in products],
        "order_id": [o.pk for o in orders],
    }


MAX_ID = 2**63 - 1


def real_id(value, ids: list[int], keep_one_in: int = 0):
    """A generated valid id becomes an id that exists (but for one in `keep_one_in`)."""
    if type(value) is str and value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_ID:
        return (
            value
            if keep_one_in and int(value) % keep_one_in == 0
            else str(real_id(int(value), ids))
        )
    if type(value) is int and 1 <= value <= MAX_ID:
        return value if keep_one_in and value % keep_one_in == 0 else ids[value % len(ids)]
    return value


def aim_at_real_objects(case, world) -> None:
    """Point generated ids at objects that exist: path ids mostly (404s stay in the mix), and
    every product id in an order body (an unknown product is a 400 the schema cannot foretell)."""
    for name in ("product_id", "order_id"):
        if case.path_parameters and name in case.path_parameters:
            value = case.path_parameters[name]
            case.path_parameters[name] = real_id(value, world[name], keep_one_in=4)
    body = case.body if isinstance(case.body, dict) else {}
    lines = [body, *(body.get("items") if isinstance(body.get("items"), list) else [])]
    for line in lines:
        if isinstance(line, dict) and "product_id" in line:
            line["product_id"] = real_id(line["product_id"], world["product_id"])


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
def test_schema_fuzz_finds_no_server_error_and_no_undocumented_answer(case, world):
    aim_at_real_objects(case, world)
    excluded = [negative_data_rejection] if only_adds_query_parameters(case) else []
    case.call_and_validate(
        headers={"Authorization": f"Token {world['token']}"}, excluded_checks=excluded
    )


def only_adds_query_parameters(case) -> bool:
    """docs/api.md: unknown query parameters are ignored, so adding one makes no bad request."""
    mutations = getattr(case.meta.phase.data, "mutations", None) if case.meta else None
    return bool(mutations) and all(
        m.parameter_location == ParameterLocation.QUERY and m.keywords == ("additionalProperties",)
        for m in mutations
    )
