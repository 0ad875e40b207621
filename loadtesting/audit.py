"""The audit phase after every load: the stock invariant in the database, the clients' ledger
against it, /health, the race's exact counts, and after stress the recovery probe.

Runs with the ORM only when no load is running (fixtures before, audit after), so the gevent
hub is never blocked by a database call in the middle of the load.
"""

from collections import Counter

from django.db import connections

from inventory.models import Product
from loadtesting.probes import health_summary
from loadtesting.scenarios import format_timespan, probe_scenario
from loadtesting.verdict import checks, figures
from orders.selectors import stock_audit, units_held_by_product

MAX_PROBLEMS_SHOWN = 20


def invariant() -> dict:
    """stock >= 0 and stock + held == units received for every product (orders.selectors)."""
    audit = stock_audit()
    return {
        "ok": audit.ok,
        "products_checked": audit.products_checked,
        "negative_stock": audit.negative_stock,
        "mismatched_products": audit.mismatched_products,
        "problems": audit.problems[:MAX_PROBLEMS_SHOWN],
    }


def ledger(seen_sold: Counter) -> dict:
    """Units the clients saw sold (201s minus cancels) never exceed what the database holds for
    orders, nor the units the product ever received."""
    seen = {product_id: units for product_id, units in seen_sold.items() if units > 0}
    received = dict(Product.objects.filter(pk__in=list(seen)).values_list("pk", "units_received"))
    held = units_held_by_product(product_ids=seen)
    violations = [
        {
            "product_id": product_id,
            "units_seen_sold": units,
            "units_held": held.get(product_id, 0),
            "units_received": received.get(product_id, 0),
        }
        for product_id, units in sorted(seen.items())
        if units > held.get(product_id, 0) or units > received.get(product_id, 0)
    ]
    return {
        "ok": not violations,
        "products": len(seen),
        "units_seen_sold": sum(seen.values()),
        "violations": violations[:MAX_PROBLEMS_SHOWN],
    }


def race(*, product_id: int, stock: int, users: int, outcomes: Counter) -> dict:
    """The race's exact verdict: min(users, stock) x 201, the rest 409 insufficient_stock."""
    expected_created = min(users, stock)
    created = outcomes.get("201", 0)
    refused = outcomes.get("409 insufficient_stock", 0)
    others = {
        key: count
        for key, count in outcomes.items()
        if key not in ("201", "409 insufficient_stock")
    }
    missing = users - sum(outcomes.values())
    if missing > 0:
        others["no answer before the timeout"] = missing
    final_stock = Product.objects.filter(pk=product_id).values_list("stock", flat=True).first()
    return {
        "product_id": product_id,
        "users": users,
        "stock": stock,
        "expected_created": expected_created,
        "expected_refused": users - expected_created,
        "created": created,
        "refused": refused,
        "others": others,
        "final_stock": final_stock,
        "expected_final_stock": stock - created,
    }


def after_load(audit_before: dict | None, result, base_url: str, out) -> dict:
    """The audit phase: the invariant in the database, the clients' ledger, /health."""
    out.write("== audit", "MIGRATE_HEADING")
    audit = {
        "before": audit_before,
        "after": invariant(),
        "ledger": ledger(Counter(result.ledger)),
        "health_after": health_summary(base_url),
    }
    audit["ok"] = audit["after"]["ok"] and audit["ledger"]["ok"]
    return audit


def recovery_probe(harness, part) -> dict:
    """After stress: /health, then 10 users that must meet `quick`'s thresholds again."""
    from loadtesting.load.phase import probe_load  # imports locust: only when it runs

    health_now = health_summary(part.target.url)
    probe = probe_scenario(part.scenario, harness.options.overrides)
    recovery = {"users": probe.users, "run_time_s": probe.run_time, "health": health_now}
    if part.result.interrupted:
        recovery["skipped"] = "the stress test was interrupted"
        return recovery
    harness.out.write(
        f"== recovery probe: {probe.users} users for {format_timespan(probe.run_time)}, "
        f"quick thresholds",
        "MIGRATE_HEADING",
    )
    connections.close_all()
    result = probe_load(harness, part, probe)
    rows, total = figures.figures(result.samples, steady_start=result.steady_start, end=result.end)
    recovery.update(
        {
            "endpoints": rows,
            "total": total,
            "checks": [c.as_dict() for c in checks.threshold_checks(probe.thresholds, rows, total)],
            "interrupted": result.interrupted,
        }
    )
    return recovery
