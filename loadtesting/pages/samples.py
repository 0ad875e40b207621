"""The run's recorded samples, as the report page draws them (`<base>_samples.json`).

Pure functions of what the harness recorded: every request (the recorder's
`(start epoch s, "METHOD name", response ms, outcome)` tuples), the hot products' stock and the
server's and the load generator's resources over time. The request samples are bucketed here
into per-second series, so the file stays small on long runs and the page only plots.

No locust, gevent or django import: the tests import this module into the pytest process.
"""

from loadtesting.percentiles import percentile

SCHEMA = 1
FAILURE = 1  # the recorder's outcomes (loadtesting.recorder, not imported: it is the load's)
STOCK_OUT = 2
# At most this many buckets per series: one per second up to 10 minutes, coarser beyond.
MAX_BUCKETS = 600

# Endpoint groups of the shop's mix ("METHOD name" as the users name their requests).
SHOP_GROUPS = {
    "GET /products/": "browse",
    "GET /products/?{filter}": "browse",
    "GET /products/{id}": "browse",
    "POST /orders/": "order",
    "POST /orders/{id}/pay": "pay",
    "POST /orders/{id}/cancel": "cancel",
    "POST /products/": "staff",
    "POST /products/{id}/restock": "staff",
    "GET /health": "health, summary",
    "GET /summary": "health, summary",
    "POST /auth/token": "login",
}
GROUP_ORDER = ("browse", "order", "pay", "cancel", "staff", "health, summary", "login")
MAX_OWN_GROUPS = 8  # a user's own locustfile: one group per endpoint, the rest in "other"


def groups_for(keys) -> dict[str, str]:
    """Endpoint key -> group: the shop's groups, else one per endpoint (at most a few)."""
    keys = sorted(set(keys))
    mapping, own = {}, []
    for key in keys:
        if key in SHOP_GROUPS:
            mapping[key] = SHOP_GROUPS[key]
        else:
            own.append(key)
    for index, key in enumerate(own):
        mapping[key] = key if index < MAX_OWN_GROUPS - 1 or len(own) == MAX_OWN_GROUPS else "other"
    return mapping


# Short runs (a race lasts a fraction of a second) get finer buckets, at least this many.
MIN_BUCKETS = 30


def bucket_seconds(duration: float) -> float:
    """1 s buckets; finer on runs shorter than MIN_BUCKETS s, coarser beyond MAX_BUCKETS s."""
    if duration < MIN_BUCKETS:
        return max(round(duration / MIN_BUCKETS, 2), 0.01)
    if duration <= MAX_BUCKETS:
        return 1.0
    return float(int(duration / MAX_BUCKETS) + 1)


def request_series(requests: list, *, start: float, end: float) -> dict:
    """Per bucket (seconds from `start`): req/s, p50 and p95 per endpoint group, stock-outs/s and
    failures/s. A bucket is the second in which a request started; its percentiles are exact
    (nearest rank) over the requests of that bucket, None where a group had none."""
    duration = max(end - start, 0.0)
    step = bucket_seconds(duration)
    count = max(int(duration // step) + 1, 1)
    mapping = groups_for(request[1] for request in requests)
    names = [name for name in GROUP_ORDER if name in mapping.values()]
    names += sorted({name for name in mapping.values()} - set(names))
    times: dict[str, list[list[float]]] = {name: [[] for _ in range(count)] for name in names}
    everything: list[list[float]] = [[] for _ in range(count)]
    stock_outs, failures = [0] * count, [0] * count
    for started, key, response_ms, outcome in requests:
        index = min(max(int((started - start) // step), 0), count - 1)
        times[mapping[key]][index].append(response_ms)
        everything[index].append(response_ms)
        if outcome == STOCK_OUT:
            stock_outs[index] += 1
        elif outcome == FAILURE:
            failures[index] += 1

    def rate(values):
        return round(len(values) / step, 2)

    def pct(values, q):
        return round(percentile(values, q), 2) if values else None

    return {
        "bucket_s": step,
        "t": [round(index * step, 3) for index in range(count)],
        "groups": names,
        "rps": {name: [rate(bucket) for bucket in times[name]] for name in names},
        "p50_ms": {name: [pct(bucket, 50) for bucket in times[name]] for name in names},
        "p95_ms": {name: [pct(bucket, 95) for bucket in times[name]] for name in names},
        "total_rps": [rate(bucket) for bucket in everything],
        "total_p95_ms": [pct(bucket, 95) for bucket in everything],
        "stock_outs_per_s": [round(value / step, 2) for value in stock_outs],
        "failures_per_s": [round(value / step, 2) for value in failures],
    }


def race_timeline(requests: list) -> dict:
    """The race's answers from the barrier's release (the first request's start): for each answer
    in the order they arrived, ms since the release and the running counts of 201, 409 and
    anything else."""
    if not requests:
        return {"release": None, "t_ms": [], "created": [], "refused": [], "other": []}
    release = min(request[0] for request in requests)
    answers = sorted(
        ((request[0] - release) * 1000 + request[2], request[3]) for request in requests
    )
    created = refused = other = 0
    series: dict[str, list] = {"t_ms": [], "created": [], "refused": [], "other": []}
    for finished_ms, outcome in answers:
        if outcome == STOCK_OUT:
            refused += 1
        elif outcome == FAILURE:
            other += 1
        else:
            created += 1
        series["t_ms"].append(round(finished_ms, 2))
        series["created"].append(created)
        series["refused"].append(refused)
        series["other"].append(other)
    return {"release": release, **series}


def relative(points, start: float) -> list:
    """`[[epoch s, value...], ...]` -> seconds from `start`."""
    return [[round(point[0] - start, 3), *point[1:]] for point in points]


def build(
    requests: list,
    *,
    start: float,
    end: float,
    race: bool = False,
    hot_stock: dict | None = None,
    server: list | None = None,
    generator: list | None = None,
    steps: list | None = None,
) -> dict:
    """Everything the report page plots, in seconds from the load's start.

    hot_stock: {"source": str, "products": {sku: {"id": int, "points": [[epoch, stock], ...]}}}
    server: [[epoch, rss MB, cpu %], ...]; generator: [[epoch, cpu %], ...];
    steps (capacity): [[epoch, users], ...] when each step began.
    """
    samples = {
        "schema": SCHEMA,
        "start": start,
        "end": end,
        "requests": request_series(requests, start=start, end=end),
    }
    if race:
        samples["race"] = race_timeline(requests)
    if hot_stock is not None:
        samples["hot_stock"] = {
            "source": hot_stock.get("source", ""),
            "products": {
                sku: {"id": product.get("id"), "points": relative(product["points"], start)}
                for sku, product in hot_stock.get("products", {}).items()
            },
        }
    if server is not None:
        samples["server"] = relative(server, start)
    if generator is not None:
        samples["generator"] = relative(generator, start)
    if steps is not None:
        samples["steps"] = relative(steps, start)
    return samples
