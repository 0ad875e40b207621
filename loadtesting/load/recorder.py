"""Every response the simulated users saw: exact timings, stock-outs and the client-side ledger.

Locust keeps response times in rounded buckets; the verdict needs exact percentiles, so every
request is recorded here from Locust's request event. The users also keep a ledger of the units
they saw sold (201 orders minus 200 cancels), which the audit compares with the database.

Stock-outs are the shop's own words: with a user's own locustfile (`custom --locustfile`) a 409
the user marked as a success is simply a success (`count_stock_outs` is False).

No locust import: the recorder is fed by the event hook (see runner.attach_recorder) and, in a
distributed run, its `drain()` travels from the workers to the master inside their reports.
"""

from collections import Counter
from dataclasses import dataclass, field

OK = 0
FAILURE = 1
STOCK_OUT = 2

# A sample: (start_time epoch s, "METHOD name", response time ms, OK | FAILURE | STOCK_OUT)
Sample = tuple[float, str, float, int]


def outcome_of(response, exception) -> int:
    """Users mark a 409 insufficient_stock as success, so a "successful" 409 is a stock-out."""
    if exception is not None:
        return FAILURE
    if getattr(response, "status_code", None) == 409:
        return STOCK_OUT
    return OK


@dataclass
class Recorder:
    samples: list[Sample] = field(default_factory=list)
    # product id -> units the clients saw sold (created orders minus cancelled ones)
    ledger: Counter = field(default_factory=Counter)
    # free-form outcome counters, e.g. the race's "201", "409 insufficient_stock"
    outcomes: Counter = field(default_factory=Counter)
    stock_outs: int = 0  # a running count, for the progress line
    count_stock_outs: bool = True  # False for a user's own locustfile: a 409 success is a success

    def reset(self, *, count_stock_outs: bool = True) -> None:
        self.count_stock_outs = count_stock_outs
        self.stock_outs = 0
        self.samples = []
        self.ledger = Counter()
        self.outcomes = Counter()

    # --- fed by Locust's request event -------------------------------------------------------

    def on_request(
        self,
        request_type,
        name,
        response_time,
        response_length=0,
        response=None,
        exception=None,
        start_time=None,
        **_kwargs,
    ) -> None:
        started = start_time if start_time is not None else 0.0
        outcome = outcome_of(response, exception)
        if outcome == STOCK_OUT and not self.count_stock_outs:
            outcome = OK
        self.stock_outs += outcome == STOCK_OUT
        self.samples.append(
            (started, f"{request_type} {name}", float(response_time or 0.0), outcome)
        )

    # --- fed by the users ----------------------------------------------------------------------

    def units_sold(self, lines: list[tuple[int, int]]) -> None:
        for product_id, quantity in lines:
            self.ledger[product_id] += quantity

    def units_returned(self, lines: list[tuple[int, int]]) -> None:
        for product_id, quantity in lines:
            self.ledger[product_id] -= quantity

    def outcome(self, key: str) -> None:
        self.outcomes[key] += 1

    # --- distributed runs: workers drain, the master merges -------------------------------------

    def drain(self) -> dict:
        """What is new since the last drain, as plain msgpack-able data."""
        samples, self.samples = self.samples, []
        ledger = {str(key): value for key, value in self.ledger.items() if value}
        outcomes = dict(self.outcomes)
        self.ledger = Counter()
        self.outcomes = Counter()
        return {
            "samples": [list(sample) for sample in samples],
            "ledger": ledger,
            "outcomes": outcomes,
        }

    def merge(self, data: dict) -> None:
        samples = [tuple(sample) for sample in data.get("samples", ())]
        self.samples.extend(samples)
        self.stock_outs += sum(1 for sample in samples if sample[3] == STOCK_OUT)
        for key, value in data.get("ledger", {}).items():
            self.ledger[int(key)] += value
        self.outcomes.update(data.get("outcomes", {}))


RECORDER = Recorder()
