"""The report page of a part and the run history, written after its verdict JSON.

The harness's side of loadtesting.pages (which is pure): which products' stock to watch, their
stock in the database before and after the load (read outside the load, so no database call
blocks the gevent hub while it runs), the run's samples file and the pages themselves.
"""

import json
from pathlib import Path

from loadtesting.pages import links_for, write_index, write_report_page
from loadtesting.pages import samples as page_samples


def watched_products(payload: dict) -> dict[int, str]:
    """Product id -> SKU of the hot products (the race's one product in a race)."""
    from inventory.models import Product

    ids = [payload["race"]["product_id"]] if payload.get("race") else payload.get("hot_products")
    if not ids:
        return {}
    return dict(Product.objects.filter(pk__in=ids).values_list("pk", "sku"))


def stock_in_database(product_ids) -> dict[int, int]:
    from inventory.models import Product

    return dict(Product.objects.filter(pk__in=list(product_ids)).values_list("pk", "stock"))


def samples_of(part) -> dict:
    """What the page plots: the requests bucketed, the live samples with their first and last
    stock points from the database, and the capacity steps."""
    result, live = part.result, getattr(part.result, "live", None)
    hot_stock, server, generator = None, None, None
    if live is not None:
        products = {}
        for product_id, sku in live["products"].items():
            points = [live["stock_before"][product_id], *live["stock"][sku]]
            if product_id in live["stock_after"]:
                points.append(live["stock_after"][product_id])
            products[sku] = {"id": product_id, "points": [p for p in points if p is not None]}
        hot_stock = {"source": live["source"], "products": products}
        server, generator = live["server"], live["generator"]
    return page_samples.build(
        result.samples,
        start=result.start,
        end=result.end,
        race=part.race is not None,
        hot_stock=hot_stock,
        server=server,
        generator=generator,
        steps=getattr(result, "steps", None),
    )


def write(part, verdict: dict) -> None:
    """`<base>_samples.json`, `<base>.html` and the results directory's `index.html`."""
    files = verdict["reports"]
    live = getattr(part.result, "live", None)
    if live is not None:
        after = stock_in_database(live["products"])
        live["stock_after"] = {pk: [part.result.end, stock] for pk, stock in after.items()}
    samples = samples_of(part)
    Path(files["samples"]).write_text(json.dumps(samples, separators=(",", ":")) + "\n")
    page = Path(files["html"])
    write_report_page(verdict, samples, page, links_for(verdict, page))
    write_index(page.parent)
